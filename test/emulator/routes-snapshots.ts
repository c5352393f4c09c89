/**
 * Collection and full-storage snapshot routes: create/list/download/delete, recover from a location and
 * upload+recover. Uploads are streamed to disk before anything else happens (auth was already checked),
 * their checksum is verified, the file is kept in the collection's snapshots directory as Qdrant keeps it,
 * and recovery proceeds as from a `file://` location.
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { checkStrictCollectionName } from "./collection-config.ts";
import { badRequest, QdrantError } from "./errors.ts";
import { readJsonObject } from "./http-util.ts";
import { receiveMultipartFile } from "./multipart.ts";
import type { PeerNode } from "./peer.ts";
import { collectionParam, maybeWait, resolvedCollection } from "./route-helpers.ts";
import { route, type Route, type RouteContext } from "./router.ts";
import { collectionSnapshotDir, createCollectionSnapshot, createFullSnapshot } from "./snapshot-create.ts";
import { deleteSnapshotFile, listSnapshots, resolveSnapshot, streamFile } from "./snapshot-files.ts";
import { fetchLocation, parsePriority, recoverCollection, validateChecksum, verifyChecksum, type Priority } from "./snapshot-recover.ts";

export interface RecoverRequest {
  location: string;
  priority: Priority;
  checksum: string | undefined;
  apiKey: string | undefined;
}

/** Parses a SnapshotRecover / ShardSnapshotRecover body: 400 for shape errors, 422 for a bad checksum. */
export async function readRecoverBody(ctx: RouteContext): Promise<RecoverRequest> {
  const body = await readJsonObject(ctx.req);
  if (body.location === undefined) throw new QdrantError(400, "Format error in JSON body: missing field `location`");
  if (typeof body.location !== "string") throw new QdrantError(400, "Format error in JSON body: invalid type for `location`, expected a string");
  const priority = parsePriority(body.priority, false);
  const checksum = validateChecksum(body.checksum, "JSON body");
  const apiKey = typeof body.api_key === "string" ? body.api_key : undefined;
  return { location: body.location, priority, checksum, apiKey };
}

/** A client-sent file name reduced to a safe base name (or a UUID when nothing usable is left). */
export function sanitiseUploadName(filename: string | undefined): string {
  const base = (filename ?? "").split(/[/\\]/).pop() ?? "";
  const cleaned = [...base].filter((ch) => ch.charCodeAt(0) >= 0x20 && !'<>:"|?*'.includes(ch)).join("");
  return cleaned === "" || cleaned === "." || cleaned === ".." ? randomUUID() : cleaned;
}

/**
 * Receives the multipart `snapshot` field into the peer's upload spool, checks the optional checksum
 * (note Qdrant's swapped wording here) and returns the spooled file.
 */
export async function receiveUpload(ctx: RouteContext, expected: string | undefined): Promise<{ file: string; filename: string | undefined }> {
  const dir = path.join(ctx.peer.tmpDir, "upload");
  await fsp.mkdir(dir, { recursive: true });
  const spool = path.join(dir, randomUUID());
  const received = await receiveMultipartFile(ctx.req, "snapshot", spool);
  if (received === undefined) throw badRequest("Multipart error: field `snapshot` is missing");
  if (expected !== undefined && received.sha256 !== expected.replace(/\s+/g, "").toLowerCase()) {
    await fsp.rm(spool, { force: true });
    throw new QdrantError(400, `Checksum mismatch: expected ${received.sha256}, actual ${expected}`);
  }
  return { file: spool, filename: received.filename };
}

async function recoverFromLocation(ctx: RouteContext, name: string, req: RecoverRequest): Promise<boolean> {
  const fetched = await fetchLocation(ctx.peer, req.location, req.apiKey);
  try {
    await verifyChecksum(fetched, req.checksum);
    await recoverCollection(ctx.cluster, ctx.peer, name, fetched.file, req.priority);
  } finally {
    if (fetched.temporary) await fsp.rm(fetched.file, { force: true });
  }
  return true;
}

function fullSnapshotsDir(peer: PeerNode): string {
  return peer.snapshotsDir;
}

export function snapshotRoutes(): Route[] {
  const base = "/collections/{collection_name}/snapshots";
  return [
    route("POST", base, "write", (ctx) => {
      const name = resolvedCollection(ctx);
      return maybeWait(ctx, "snapshot creation", () => createCollectionSnapshot(ctx.cluster, ctx.peer, name));
    }),
    route("GET", base, "read", async (ctx) => {
      const name = resolvedCollection(ctx);
      return { ok: await listSnapshots(collectionSnapshotDir(ctx.peer, name)) };
    }),
    route("GET", `${base}/{snapshot_name}`, "read", async (ctx) => {
      const name = resolvedCollection(ctx);
      const file = await resolveSnapshot(collectionSnapshotDir(ctx.peer, name), ctx.params.snapshot_name ?? "");
      await streamFile(ctx.req, ctx.res, file, ctx.cutAfterBytes);
      return { handled: true };
    }, true),
    route("DELETE", `${base}/{snapshot_name}`, "write", (ctx) => {
      const name = resolvedCollection(ctx);
      const snapshot = ctx.params.snapshot_name ?? "";
      return maybeWait(ctx, "snapshot deletion", async () => {
        await deleteSnapshotFile(collectionSnapshotDir(ctx.peer, name), snapshot);
        return true;
      });
    }),
    route("PUT", `${base}/recover`, "write", async (ctx) => {
      const name = collectionParam(ctx);
      const req = await readRecoverBody(ctx);
      return maybeWait(ctx, "snapshot recovery", () => recoverFromLocation(ctx, name, req));
    }),
    route("POST", `${base}/upload`, "write", async (ctx) => {
      const name = ctx.params.collection_name ?? "";
      checkStrictCollectionName(name);
      const priority = parsePriority(ctx.query.get("priority") ?? undefined, true);
      const checksum = validateChecksum(ctx.query.get("checksum") ?? undefined, "query parameters");
      const upload = await receiveUpload(ctx, checksum);
      const dir = collectionSnapshotDir(ctx.peer, name);
      await fsp.mkdir(dir, { recursive: true });
      const kept = path.join(dir, sanitiseUploadName(upload.filename));
      await fsp.rename(upload.file, kept);
      return maybeWait(ctx, "snapshot recovery", async () => {
        await recoverCollection(ctx.cluster, ctx.peer, name, kept, priority);
        return true;
      });
    }),
    route("POST", "/snapshots", "write", (ctx) =>
      maybeWait(ctx, "full snapshot creation", () => createFullSnapshot(ctx.cluster, ctx.peer)),
    ),
    route("GET", "/snapshots", "read", async (ctx) => ({ ok: await listSnapshots(fullSnapshotsDir(ctx.peer)) })),
    route("GET", "/snapshots/{snapshot_name}", "read", async (ctx) => {
      const file = await resolveSnapshot(fullSnapshotsDir(ctx.peer), ctx.params.snapshot_name ?? "");
      await streamFile(ctx.req, ctx.res, file, ctx.cutAfterBytes);
      return { handled: true };
    }, true),
    route("DELETE", "/snapshots/{snapshot_name}", "write", (ctx) => {
      const snapshot = ctx.params.snapshot_name ?? "";
      return maybeWait(ctx, "full snapshot deletion", async () => {
        await deleteSnapshotFile(fullSnapshotsDir(ctx.peer), snapshot);
        return true;
      });
    }),
  ];
}
