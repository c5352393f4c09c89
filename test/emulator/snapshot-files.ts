/**
 * Snapshot files on a peer's disk: Qdrant's naming, the `.checksum` side file, SnapshotDescription, safe name
 * resolution (anything that is not a plain file name is simply "not found") and streamed downloads with
 * the headers actix's NamedFile sends (Content-Length, Content-Disposition, ETag, Range).
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { ServerResponse, IncomingMessage } from "node:http";
import { notFound } from "./errors.ts";

export interface SnapshotDescription {
  name: string;
  creation_time: string | null;
  size: number;
  checksum?: string;
}

/** `%Y-%m-%d-%H-%M-%S` in UTC, the stamp in every snapshot name. */
export function nameStamp(d: Date = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
}

export const collectionSnapshotName = (collection: string, peerId: number, d?: Date): string =>
  `${collection}-${peerId}-${nameStamp(d)}.snapshot`;
export const shardSnapshotName = (collection: string, shardId: number, d?: Date): string =>
  `${collection}-shard-${shardId}-${nameStamp(d)}.snapshot`;
export const fullSnapshotName = (d?: Date): string => `full-snapshot-${nameStamp(d)}.snapshot`;

export const checksumPath = (file: string): string => `${file}.checksum`;

/** Naive UTC `YYYY-MM-DDTHH:MM:SS` (no zone, no fraction), as Qdrant prints creation_time. */
function naiveUtc(d: Date): string {
  return d.toISOString().slice(0, 19);
}

export async function describeSnapshot(file: string): Promise<SnapshotDescription> {
  const st = await fsp.stat(file);
  const desc: SnapshotDescription = {
    name: path.basename(file),
    creation_time: st.birthtimeMs > 0 ? naiveUtc(st.birthtime) : null,
    size: st.size,
  };
  try {
    desc.checksum = (await fsp.readFile(checksumPath(file), "utf8")).trim();
  } catch {
    // No side file (uploaded snapshots): the key is omitted, as Qdrant does.
  }
  return desc;
}

/** Lists `*.snapshot` files of a directory in directory order; a missing directory lists nothing. */
export async function listSnapshots(dir: string): Promise<SnapshotDescription[]> {
  let names: fs.Dirent[];
  try {
    names = await fsp.readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: SnapshotDescription[] = [];
  for (const d of names) {
    if (!d.isFile() || !d.name.endsWith(".snapshot")) continue;
    try {
      out.push(await describeSnapshot(path.join(dir, d.name)));
    } catch {
      // Deleted between readdir and stat: not listed.
    }
  }
  return out;
}

/** A name that stays inside its directory: no separators, not `.`/`..`, no NUL. */
export function isPlainFileName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name);
}

/** Resolves an existing snapshot file in `dir`, or fails with Qdrant's 404 texts. */
export async function resolveSnapshot(dir: string, name: string): Promise<string> {
  if (!isPlainFileName(name)) throw notFound(`Snapshot ${name} not found`);
  if (!fs.existsSync(dir)) throw notFound(`Snapshot directory: ${dir} not found`);
  const file = path.join(dir, name);
  let st: fs.Stats;
  try {
    st = await fsp.stat(file);
  } catch {
    throw notFound(`Snapshot ${name} not found`);
  }
  if (!st.isFile()) throw notFound(`Snapshot ${name} not found`);
  return file;
}

export async function deleteSnapshotFile(dir: string, name: string): Promise<void> {
  const file = await resolveSnapshot(dir, name);
  await fsp.rm(file, { force: true });
  await fsp.rm(checksumPath(file), { force: true });
}

/** SHA-256 of a file, streamed. */
export async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) hash.update(chunk);
    yield* [];
  });
  return hash.digest("hex");
}

/** Checksums compare ignoring case and surrounding/embedded whitespace. */
export function checksumsEqual(a: string, b: string): boolean {
  return a.replace(/\s+/g, "").toLowerCase() === b.replace(/\s+/g, "").toLowerCase();
}

/** Writes a checksum side file beside a snapshot (64 hex bytes, no newline). */
export async function writeChecksumFile(snapshotFile: string, checksum: string): Promise<void> {
  await fsp.writeFile(checksumPath(snapshotFile), checksum);
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | "invalid" | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null) return "invalid";
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return "invalid";
  let start: number;
  let end: number;
  if (a === "") {
    start = Math.max(0, size - Number(b));
    end = size - 1;
  } else {
    start = Number(a);
    end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start > end || start >= size) return "invalid";
  return { start, end };
}

/**
 * Streams a file as a download. Memory stays at the stream's buffer size whatever the file size; a "cut"
 * fault ends the connection after `cutAfter` bytes, as a dropped connection would.
 */
export async function streamFile(req: IncomingMessage, res: ServerResponse, file: string, cutAfter?: number): Promise<void> {
  const st = await fsp.stat(file);
  const etag = `"${st.ino.toString(16)}:${st.size.toString(16)}:${Math.floor(st.mtimeMs).toString(16)}"`;
  const headers: Record<string, string | number> = {
    "content-type": "application/octet-stream",
    "content-disposition": `attachment; filename="${path.basename(file)}"`,
    "accept-ranges": "bytes",
    etag,
    "last-modified": st.mtime.toUTCString(),
  };
  if (req.headers["if-none-match"] === etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const range = parseRange(req.headers.range, st.size);
  if (range === "invalid") {
    res.writeHead(416, { "content-range": `bytes */${st.size}`, "content-length": 0 });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? st.size - 1;
  const length = st.size === 0 ? 0 : end - start + 1;
  headers["content-length"] = length;
  if (range !== undefined) headers["content-range"] = `bytes ${start}-${end}/${st.size}`;
  res.writeHead(range !== undefined ? 206 : 200, headers);
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  const source = fs.createReadStream(file, { start, end, highWaterMark: 1 << 16 });
  if (cutAfter === undefined) {
    await pipeline(source, res);
    return;
  }
  let sent = 0;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    const room = cutAfter - sent;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length > 0) {
      await new Promise<void>((resolve) => res.write(part, () => resolve()));
      sent += part.length;
    }
    if (sent >= cutAfter) break;
  }
  source.destroy();
  if (sent < length) {
    // Drop the connection mid-body, as a network failure would.
    res.destroy();
    return;
  }
  res.end();
}
