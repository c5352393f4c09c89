/**
 * One collection's snapshot out of a full-storage snapshot archive, while the archive streams past: no
 * temp file, no archive in memory. A FullStorage restore streams the peer's archive from S3 through here
 * into Qdrant's upload, hashing the whole archive as it flows, and only lets the upload complete once the
 * rest of the archive has gone by and its SHA-256 matches the manifest (`rest()`, then the upload's
 * `beforeEnd`).
 *
 * The layout, from Qdrant's source (lib/storage/src/content_manager/snapshots/mod.rs,
 * `_do_create_full_snapshot`): a plain tar written by Rust's `tar::Builder` holding, in this order, each
 * collection's snapshot file under its own name (`append_path_with_name(file, snapshot_name)`), then
 * `config.json` = `{"collections_mapping": {collection: file}, "collections_aliases": {alias: collection}}`.
 * The mapping comes LAST, so the entry is found by Qdrant's naming rule for collection snapshots
 * (lib/collection/src/collection/snapshots.rs, `create_temp_snapshot`):
 * `{collection}-{peer_id}-{%Y-%m-%d-%H-%M-%S}.snapshot`, where the peer id is digits and the stamp has a
 * fixed shape, so collection `docs` never takes `docs-v2-…` (a millisecond suffix, `-%3f`, and a numeric
 * `-N`, seen in newer sources, are accepted too). When config.json does come first (another writer), its
 * mapping decides; when it comes after, `rest()` checks it names the entry that was sent (and refuses
 * otherwise, which aborts the upload).
 *
 * Tar as Rust's `tar` writes and reads it: 512-byte headers with checked checksums, data padded to 512,
 * octal or base-256 (GNU, files over 8 GiB) sizes, GNU long names (`././@LongLink`, type `L`, which
 * `tar::Builder` uses for names over 100 bytes: collection names go up to 255), ustar prefixes, and pax
 * `path`/`size` records; the first all-zero block, or the input ending at a block boundary, ends it.
 */
import { Readable } from "node:stream";
import { OperatorError } from "../../errors.ts";

const BLOCK = 512;
/** config.json, pax and long-name entries are read whole; nothing Qdrant writes comes near this. */
const MAX_METADATA_BYTES = 16 * 1024 * 1024;

export interface CollectionEntry {
  /** The entry's name in the archive (the collection snapshot's file name). */
  name: string;
  /** The collection snapshot's exact size in bytes. */
  size: number;
  /** Exactly `size` bytes; errors when the archive ends inside it or the source fails. */
  body: Readable;
  /**
   * Reads (and discards) the rest of the archive after `body` ended, so a caller hashing the archive as
   * it flows has the whole digest; rejects when the archive turns out malformed, or its config.json does
   * not map the collection to this entry.
   */
  rest: () => Promise<void>;
}

export interface OpenEntryOptions {
  /** The source peer's id, when known: only `{collection}-{peerId}-…` then matches. */
  peerId?: string | undefined;
  /** Stops reading: the archive is destroyed with the signal's reason. */
  signal?: AbortSignal | undefined;
}

const corrupt = (what: string): OperatorError => new OperatorError("SNAPSHOT_CORRUPT", `full-storage archive: ${what}`);

const STAMP = String.raw`\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}(?:-\d{3})?(?:-\d+)?`;

/** Whether `name` is a collection snapshot of `collection` by Qdrant's naming rule (of peer `peerId`, when given). */
export function isCollectionSnapshotName(name: string, collection: string, peerId?: string): boolean {
  if (!name.startsWith(`${collection}-`)) return false;
  const peer = peerId !== undefined ? peerId.replace(/[^0-9]/g, "\\$&") : String.raw`\d+`;
  return new RegExp(`^${peer}-${STAMP}\\.snapshot$`).test(name.slice(collection.length + 1));
}

/** Reads a stream in exact amounts, handing out slices of its own chunks (no copies on the data path). */
class ByteReader {
  readonly #it: AsyncIterator<unknown>;
  /** Rejects with the signal's reason: a source that never settles a read still stops (Readable.from's destroy waits for it). */
  readonly #aborted: Promise<never> | undefined;
  #buf: Buffer = Buffer.alloc(0);
  #ended = false;

  constructor(source: AsyncIterable<unknown>, signal: AbortSignal | undefined) {
    this.#it = source[Symbol.asyncIterator]();
    if (signal !== undefined) {
      this.#aborted = new Promise<never>((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
      this.#aborted.catch(() => undefined);
    }
  }

  async #fill(): Promise<boolean> {
    while (this.#buf.length === 0) {
      if (this.#ended) return false;
      const next = await (this.#aborted ? Promise.race([this.#it.next(), this.#aborted]) : this.#it.next());
      if (next.done === true) {
        this.#ended = true;
        return false;
      }
      const v = next.value;
      this.#buf = Buffer.isBuffer(v) ? v : typeof v === "string" ? Buffer.from(v) : Buffer.from(v as Uint8Array);
    }
    return true;
  }

  /** Up to `max` bytes (at least one), or undefined at the end of the stream. */
  async take(max: number): Promise<Buffer | undefined> {
    if (!(await this.#fill())) return undefined;
    const out = this.#buf.subarray(0, Math.min(max, this.#buf.length));
    this.#buf = this.#buf.subarray(out.length);
    return out;
  }

  /** Exactly `n` bytes; undefined when the stream ended before the first; throws when it ends part-way. */
  async exact(n: number, what: string): Promise<Buffer | undefined> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const c = await this.take(n - got);
      if (c === undefined) {
        if (got === 0) return undefined;
        throw corrupt(`the archive ends inside ${what}`);
      }
      parts.push(c);
      got += c.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  async skip(n: number, what: string): Promise<void> {
    for (let left = n; left > 0; ) {
      const c = await this.take(left);
      if (c === undefined) throw corrupt(`the archive ends inside ${what}`);
      left -= c.length;
    }
  }

  async drain(): Promise<void> {
    while ((await this.take(Number.MAX_SAFE_INTEGER)) !== undefined);
  }

  /** Stops the source (a Readable's iterator destroys it); not awaited past an abort. */
  async close(): Promise<void> {
    const closing = this.#it.return?.();
    await (this.#aborted && closing ? Promise.race([closing, this.#aborted]) : closing);
  }
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;
const cString = (buf: Buffer, start: number, end: number): string => buf.toString("utf8", start, end).replace(/\0[\s\S]*$/, "");

function readNumber(buf: Buffer, offset: number, length: number, what: string): number {
  if (((buf[offset] ?? 0) & 0x80) !== 0) {
    let v = BigInt((buf[offset] ?? 0) & 0x7f);
    for (let i = offset + 1; i < offset + length; i++) v = (v << 8n) | BigInt(buf[i] ?? 0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`${what} is too large`);
    return Number(v);
  }
  const text = buf.toString("latin1", offset, offset + length).replace(/\0[\s\S]*$/, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw corrupt(`${what} is not a number (${JSON.stringify(text)})`);
  return parseInt(text, 8);
}

interface Header {
  name: string;
  size: number;
  type: string;
}

/** One 512-byte header; undefined for the all-zero block that ends the archive. */
function parseHeader(block: Buffer, at: number): Header | undefined {
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (readNumber(block, 148, 8, "a header checksum") !== sum) throw corrupt(`the header at byte ${at} has a wrong checksum (not a tar archive, or misaligned)`);
  const type = String.fromCharCode(block[156] ?? 0);
  // POSIX ustar ("ustar\0" "00") has a name prefix at 345; GNU ("ustar  \0") keeps other fields there.
  const posix = block.toString("latin1", 257, 263) === "ustar\0";
  const prefix = posix ? cString(block, 345, 500) : "";
  const base = cString(block, 0, 100);
  return { name: prefix !== "" ? `${prefix}/${base}` : base, size: readNumber(block, 124, 12, "an entry size"), type };
}

/** pax extended header records (`<len> <key>=<value>\n`): the ones that change how an entry is read. */
function paxRecords(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const len = space > pos ? Number(data.toString("latin1", pos, space)) : NaN;
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) throw corrupt("a pax header record is malformed");
    const record = data.toString("utf8", space + 1, pos + len - 1);
    const eq = record.indexOf("=");
    const key = record.slice(0, eq);
    const value = record.slice(eq + 1);
    if (key === "path") out.path = value;
    if (key === "size") {
      if (!/^\d+$/.test(value)) throw corrupt("a pax size record is not a number");
      out.size = Number(value);
    }
    pos += len;
  }
  return out;
}

const isRegularFile = (type: string): boolean => type === "0" || type === "\0" || type === "7";
const normalName = (name: string): string => name.replace(/^(?:\.\/)+/, "");

/** Walks entries: long-name and pax headers are applied to the entry they describe; data is the caller's to read or skip. */
class TarWalker {
  readonly reader: ByteReader;
  #at = 0;

  constructor(reader: ByteReader) {
    this.reader = reader;
  }

  async #metadata(h: Header): Promise<Buffer> {
    if (h.size > MAX_METADATA_BYTES) throw corrupt(`a ${h.type} header entry of ${h.size} bytes is too large`);
    const data = (await this.reader.exact(h.size, "a metadata entry")) ?? Buffer.alloc(0);
    if (data.length < h.size) throw corrupt("the archive ends inside a metadata entry");
    await this.reader.skip(padding(h.size), "padding");
    this.#at += h.size + padding(h.size);
    return data;
  }

  /** The next entry (its data unread), or undefined at the end of the archive. */
  async next(): Promise<Header | undefined> {
    let longName: string | undefined;
    let pax: { path?: string; size?: number } = {};
    for (;;) {
      const block = await this.reader.exact(BLOCK, "a header");
      if (block === undefined) return undefined;
      const h = parseHeader(block, this.#at);
      this.#at += BLOCK;
      if (h === undefined) return undefined;
      if (h.type === "L") longName = cString(await this.#metadata(h), 0, h.size);
      else if (h.type === "x") pax = paxRecords(await this.#metadata(h));
      else if (h.type === "K" || h.type === "g") await this.#metadata(h);
      else {
        const size = pax.size ?? h.size;
        return { name: normalName(pax.path ?? longName ?? h.name), size, type: h.type };
      }
    }
  }

  /** Skips an entry's data (and its padding). */
  async skipData(h: Header): Promise<void> {
    await this.reader.skip(h.size + padding(h.size), `entry ${h.name}`);
    this.#at += h.size + padding(h.size);
  }

  async readData(h: Header): Promise<Buffer> {
    return this.#metadata(h);
  }

  /** After a caller read an entry's data itself: its padding. */
  async afterData(h: Header): Promise<void> {
    await this.reader.skip(padding(h.size), "padding");
    this.#at += h.size + padding(h.size);
  }
}

function parseMapping(data: Buffer): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString("utf8"));
  } catch (err) {
    throw corrupt(`config.json is not JSON (${(err as Error).message})`);
  }
  const mapping = (parsed as { collections_mapping?: unknown } | null)?.collections_mapping;
  if (mapping === null || typeof mapping !== "object" || Array.isArray(mapping)) throw corrupt("config.json has no collections_mapping");
  return mapping as Record<string, string>;
}

function notInBackup(collection: string, mapping: Record<string, string> | undefined, files: string[]): OperatorError {
  const held = mapping !== undefined ? `collections ${Object.keys(mapping).sort().map((c) => JSON.stringify(c)).join(", ") || "(none)"}` : `entries ${files.map((f) => JSON.stringify(f)).join(", ") || "(none)"}`;
  return new OperatorError("COLLECTION_NOT_IN_BACKUP", `collection "${collection}" is not in the full-storage archive; it holds ${held}`);
}

/**
 * Reads `archive` up to the header of `collection`'s snapshot entry and hands out that entry's bytes as
 * they stream. A missing entry is COLLECTION_NOT_IN_BACKUP (the archive was read to its end, naming what
 * it holds); a malformed archive is SNAPSHOT_CORRUPT. The caller reads `body` to its end, then calls
 * `rest()`.
 */
export async function openCollectionEntry(archive: Readable | AsyncIterable<Uint8Array>, collection: string, opts: OpenEntryOptions = {}): Promise<CollectionEntry> {
  const stop = (): void => {
    if ("destroy" in archive && typeof archive.destroy === "function") archive.destroy(opts.signal?.reason as Error);
  };
  opts.signal?.throwIfAborted();
  opts.signal?.addEventListener("abort", stop, { once: true });
  const walker = new TarWalker(new ByteReader(archive, opts.signal));
  const files: string[] = [];
  let mapping: Record<string, string> | undefined;
  const detach = (): void => opts.signal?.removeEventListener("abort", stop);
  const matches = (name: string): boolean => (mapping !== undefined ? mapping[collection] === name : isCollectionSnapshotName(name, collection, opts.peerId));

  let found: Header | undefined;
  try {
    for (let h = await walker.next(); h !== undefined; h = await walker.next()) {
      if (isRegularFile(h.type) && h.name === "config.json" && mapping === undefined) {
        mapping = parseMapping(await walker.readData(h));
        if (!(collection in mapping)) break;
        continue;
      }
      if (isRegularFile(h.type) && matches(h.name)) {
        found = h;
        break;
      }
      if (isRegularFile(h.type)) files.push(h.name);
      await walker.skipData(h);
    }
    if (found === undefined) {
      await walker.reader.drain();
      throw notInBackup(collection, mapping, files);
    }
  } catch (err) {
    detach();
    await walker.reader.close().catch(() => undefined);
    throw opts.signal?.aborted ? opts.signal.reason : err;
  }

  const entry = found;
  let bodyDone = false;
  async function* data(): AsyncGenerator<Buffer> {
    for (let left = entry.size; left > 0; ) {
      const c = await walker.reader.take(left);
      if (c === undefined) throw corrupt(`the archive ends inside ${entry.name} (${entry.size - left} of ${entry.size} bytes)`);
      left -= c.length;
      yield c;
    }
    bodyDone = true;
  }

  const rest = async (): Promise<void> => {
    if (!bodyDone) throw new Error(`rest() of ${entry.name} called before its body was read to the end`);
    try {
      await walker.afterData(entry);
      for (let h = await walker.next(); h !== undefined; h = await walker.next()) {
        if (isRegularFile(h.type) && h.name === "config.json" && mapping === undefined) mapping = parseMapping(await walker.readData(h));
        else await walker.skipData(h);
      }
      await walker.reader.drain();
    } catch (err) {
      throw opts.signal?.aborted ? opts.signal.reason : err;
    } finally {
      detach();
    }
    if (mapping !== undefined && mapping[collection] !== entry.name) {
      if (!(collection in mapping)) throw notInBackup(collection, mapping, files);
      throw corrupt(`config.json maps collection "${collection}" to ${JSON.stringify(mapping[collection])}, not to the entry ${JSON.stringify(entry.name)} that was read`);
    }
  };

  return { name: entry.name, size: entry.size, body: Readable.from(data(), { objectMode: false, highWaterMark: 64 * 1024 }), rest };
}
