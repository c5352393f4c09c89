/**
 * Shard snapshot routes: the same verbs as collection snapshots, scoped to one shard this peer holds, plus
 * the on-the-fly stream (`GET …/shards/{id}/snapshot`). Recovery never creates the collection.
 */
import type { Stats } from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { badInput, formatError, notFound, serviceError } from "./errors.ts";
import { maybeWait, resolvedCollection, shardIdParam } from "./route-helpers.ts";
import { route, type Route, type RouteContext } from "./router.ts";
import { writeShardSnapshot } from "./snapshot-archive.ts";
import { assertLocalShard, createShardSnapshot, shardSnapshotDir } from "./snapshot-create.ts";
import { deleteSnapshotFile, isPlainFileName, listSnapshots, resolveSnapshot, streamFile } from "./snapshot-files.ts";
import { fetchLocation, parsePriority, recoverShard, validateChecksum, verifyChecksum } from "./snapshot-recover.ts";
import { readRecoverBody, receiveUpload } from "./routes-snapshots.ts";

function target(ctx: RouteContext): { name: string; shardId: number } {
  const name = resolvedCollection(ctx);
  const shardId = shardIdParam(ctx);
  return { name, shardId };
}

/**
 * A shard recover location, checked as Qdrant's `recover_shard_snapshot` (src/common/snapshots.rs) does,
 * after the shard's existence (`assert_shard_exists`: 404 `shard N not found`):
 * - a URL (anything with a scheme, as `ShardSnapshotLocation` tries `Url` first) must be http(s), else
 *   400 `Wrong input: Invalid snapshot URL <url>: URLs with <scheme> scheme are not supported`;
 * - otherwise a bare file name in the shard's snapshot directory: a name with a path in it is 404
 *   `Snapshot <name> not found` (`shard_snapshot_path_unchecked`), a missing file the same 404 and a
 *   non-file 500 `<name> is not a file` (`check_shard_snapshot_file_exists`).
 */
async function locate(ctx: RouteContext, name: string, shardId: number, location: string, apiKey: string | undefined) {
  if (!(String(shardId) in ctx.cluster.meta(name).shards)) throw notFound(`shard ${shardId} not found`);
  if (/^[a-z][a-z0-9+.-]*:/i.test(location)) {
    let url: URL;
    try {
      url = new URL(location);
    } catch {
      throw formatError("relative URL without a base");
    }
    const scheme = url.protocol.replace(/:$/, "");
    if (scheme !== "http" && scheme !== "https") {
      throw badInput(`Invalid snapshot URL ${url.href}: URLs with ${scheme} scheme are not supported`);
    }
    return fetchLocation(ctx.peer, location, apiKey);
  }
  if (!isPlainFileName(location)) throw notFound(`Snapshot ${location} not found`);
  const file = path.join(shardSnapshotDir(ctx.peer, name, shardId), location);
  let st: Stats;
  try {
    st = await fsp.stat(file);
  } catch {
    throw notFound(`Snapshot ${location} not found`);
  }
  if (!st.isFile()) throw serviceError(`${location} is not a file`);
  return { file, temporary: false };
}

export function shardSnapshotRoutes(): Route[] {
  const base = "/collections/{collection_name}/shards/{shard_id}/snapshots";
  return [
    route("POST", base, "write", (ctx) => {
      const { name, shardId } = target(ctx);
      return maybeWait(ctx, "shard snapshot creation", () => createShardSnapshot(ctx.cluster, ctx.peer, name, shardId));
    }),
    route("GET", base, "read", async (ctx) => {
      const { name, shardId } = target(ctx);
      assertLocalShard(ctx.cluster, ctx.peer, name, shardId);
      return { ok: await listSnapshots(shardSnapshotDir(ctx.peer, name, shardId)) };
    }),
    route("GET", `${base}/{snapshot_name}`, "read", async (ctx) => {
      const { name, shardId } = target(ctx);
      const file = await resolveSnapshot(shardSnapshotDir(ctx.peer, name, shardId), ctx.params.snapshot_name ?? "");
      await streamFile(ctx.req, ctx.res, file, ctx.cutAfterBytes);
      return { handled: true };
    }, true),
    route("DELETE", `${base}/{snapshot_name}`, "write", (ctx) => {
      const { name, shardId } = target(ctx);
      const snapshot = ctx.params.snapshot_name ?? "";
      return maybeWait(ctx, "shard snapshot deletion", async () => {
        await deleteSnapshotFile(shardSnapshotDir(ctx.peer, name, shardId), snapshot);
        return true;
      });
    }),
    route("PUT", `${base}/recover`, "write", async (ctx) => {
      const { name, shardId } = target(ctx);
      const req = await readRecoverBody(ctx);
      return maybeWait(ctx, "shard snapshot recovery", async () => {
        const fetched = await locate(ctx, name, shardId, req.location, req.apiKey);
        try {
          await verifyChecksum(fetched, req.checksum);
          await recoverShard(ctx.cluster, ctx.peer, name, shardId, fetched.file, req.priority);
        } finally {
          if (fetched.temporary) await fsp.rm(fetched.file, { force: true });
        }
        return true;
      });
    }),
    route("POST", `${base}/upload`, "write", async (ctx) => {
      const { name, shardId } = target(ctx);
      const priority = parsePriority(ctx.query.get("priority") ?? undefined, true);
      const checksum = validateChecksum(ctx.query.get("checksum") ?? undefined, "query parameters");
      const upload = await receiveUpload(ctx, checksum);
      return maybeWait(ctx, "shard snapshot recovery", async () => {
        try {
          await recoverShard(ctx.cluster, ctx.peer, name, shardId, upload.file, priority);
        } finally {
          await fsp.rm(upload.file, { force: true });
        }
        return true;
      });
    }),
    route("GET", "/collections/{collection_name}/shards/{shard_id}/snapshot", "read", async (ctx) => {
      const { name, shardId } = target(ctx);
      assertLocalShard(ctx.cluster, ctx.peer, name, shardId);
      const tmp = path.join(ctx.peer.tmpDir, `stream-${randomUUID()}.snapshot`);
      try {
        await writeShardSnapshot(ctx.peer, name, shardId, ctx.cluster.meta(name).shards[String(shardId)] ?? {}, tmp);
        await streamFile(ctx.req, ctx.res, tmp, ctx.cutAfterBytes);
      } finally {
        await fsp.rm(tmp, { force: true });
      }
      return { handled: true };
    }, true),
  ];
}

