/**
 * On-disk storage of one shard replica: an append-only log of framed records plus an in-memory index of
 * where each live point's latest record sits. Payloads and vectors stay on disk, so memory grows with the
 * number of points, not with their size; that is what lets a multi-GiB collection (and its snapshot) exist
 * without the emulator's RSS following it.
 *
 * Record layout (big-endian): kind u8 (1 = put, 2 = delete) | key length u16 | version f64 | body length u32
 * | key (utf8) | body (JSON: {id, vector, payload}). A torn tail (crash mid-write) is cut off on open.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const HEADER_LEN = 15;
const KIND_PUT = 1;
const KIND_DELETE = 2;

export interface IndexEntry {
  /** Offset of the record's header in the log. */
  offset: number;
  /** Whole record length (header, key and body). */
  length: number;
  version: number;
}

export interface StoredRecord {
  version: number;
  body: Buffer;
}

/** Thrown by a strict open when the log is not a well-formed sequence of records. */
export class CorruptShardError extends Error {}

export function encodeRecord(kind: number, key: string, version: number, body: Buffer): Buffer {
  const keyBuf = Buffer.from(key, "utf8");
  const buf = Buffer.allocUnsafe(HEADER_LEN + keyBuf.length + body.length);
  buf.writeUInt8(kind, 0);
  buf.writeUInt16BE(keyBuf.length, 1);
  buf.writeDoubleBE(version, 3);
  buf.writeUInt32BE(body.length, 11);
  keyBuf.copy(buf, HEADER_LEN);
  body.copy(buf, HEADER_LEN + keyBuf.length);
  return buf;
}

export class ShardStore {
  readonly file: string;
  private fd: number;
  private size: number;
  private readonly index = new Map<string, IndexEntry>();
  private deadBytes = 0;
  /** Highest operation number seen; the next write gets the next one (Qdrant's point version). */
  lastVersion = 0;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.fd = fd;
    this.size = 0;
  }

  /**
   * Opens (creating if needed) the log at `file`. With `strict`, any malformed byte is an error (used to
   * validate a snapshot before recovering it); otherwise a torn tail is truncated, as a WAL replay would.
   */
  static open(file: string, strict = false): ShardStore {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, fs.existsSync(file) ? "r+" : "w+");
    const store = new ShardStore(file, fd);
    try {
      store.scan(strict);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    if (!strict && store.deadBytes > 1 << 20 && store.deadBytes > store.size / 2) store.compact();
    return store;
  }

  private scan(strict: boolean): void {
    const total = fs.fstatSync(this.fd).size;
    const header = Buffer.alloc(HEADER_LEN);
    let pos = 0;
    while (pos < total) {
      const fail = (why: string): void => {
        if (strict) throw new CorruptShardError(`corrupt shard data at byte ${pos}: ${why}`);
      };
      if (pos + HEADER_LEN > total) {
        fail("truncated header");
        break;
      }
      fs.readSync(this.fd, header, 0, HEADER_LEN, pos);
      const kind = header.readUInt8(0);
      const keyLen = header.readUInt16BE(1);
      const version = header.readDoubleBE(3);
      const bodyLen = header.readUInt32BE(11);
      const length = HEADER_LEN + keyLen + bodyLen;
      if ((kind !== KIND_PUT && kind !== KIND_DELETE) || !Number.isFinite(version) || keyLen === 0) {
        fail("bad record header");
        break;
      }
      if (pos + length > total) {
        fail("truncated record");
        break;
      }
      const keyBuf = Buffer.alloc(keyLen);
      fs.readSync(this.fd, keyBuf, 0, keyLen, pos + HEADER_LEN);
      const key = keyBuf.toString("utf8");
      const previous = this.index.get(key);
      if (previous !== undefined) this.deadBytes += previous.length;
      if (kind === KIND_PUT) {
        this.index.set(key, { offset: pos, length, version });
      } else {
        this.index.delete(key);
        this.deadBytes += length;
      }
      this.lastVersion = Math.max(this.lastVersion, version);
      pos += length;
    }
    if (pos < total) fs.ftruncateSync(this.fd, pos);
    this.size = pos;
  }

  /** Rewrites the log with live records only. Only called while nothing else reads the file. */
  private compact(): void {
    const tmp = `${this.file}.compact`;
    const out = fs.openSync(tmp, "w");
    let pos = 0;
    const fresh = new Map<string, IndexEntry>();
    for (const [key, entry] of this.index) {
      const buf = Buffer.allocUnsafe(entry.length);
      fs.readSync(this.fd, buf, 0, entry.length, entry.offset);
      fs.writeSync(out, buf, 0, buf.length, pos);
      fresh.set(key, { offset: pos, length: entry.length, version: entry.version });
      pos += entry.length;
    }
    fs.fsyncSync(out);
    fs.closeSync(out);
    fs.closeSync(this.fd);
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, "r+");
    this.index.clear();
    for (const [k, v] of fresh) this.index.set(k, v);
    this.size = pos;
    this.deadBytes = 0;
  }

  get count(): number {
    return this.index.size;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  /** Copy of the index: a point-in-time view whose records stay valid (the log is append-only). */
  snapshotIndex(): Array<[string, IndexEntry]> {
    return [...this.index.entries()];
  }

  nextVersion(): number {
    this.lastVersion += 1;
    return this.lastVersion;
  }

  put(key: string, version: number, body: Buffer): void {
    this.append(encodeRecord(KIND_PUT, key, version, body), key, version, true);
  }

  remove(key: string, version: number): void {
    if (!this.index.has(key)) return;
    this.append(encodeRecord(KIND_DELETE, key, version, Buffer.alloc(0)), key, version, false);
  }

  private append(buf: Buffer, key: string, version: number, live: boolean): void {
    fs.writeSync(this.fd, buf, 0, buf.length, this.size);
    const previous = this.index.get(key);
    if (previous !== undefined) this.deadBytes += previous.length;
    if (live) this.index.set(key, { offset: this.size, length: buf.length, version });
    else {
      this.index.delete(key);
      this.deadBytes += buf.length;
    }
    this.size += buf.length;
  }

  read(key: string): StoredRecord | undefined {
    const entry = this.index.get(key);
    if (entry === undefined) return undefined;
    const buf = Buffer.allocUnsafe(entry.length);
    fs.readSync(this.fd, buf, 0, entry.length, entry.offset);
    const keyLen = buf.readUInt16BE(1);
    return { version: entry.version, body: buf.subarray(HEADER_LEN + keyLen) };
  }

  /**
   * Replaces the whole content with the log at `source` (moved into place) or with nothing. A new inode is
   * used, so a snapshot still streaming the old records from its own descriptor is not disturbed.
   */
  replaceWith(source: string | undefined): void {
    fs.closeSync(this.fd);
    if (source !== undefined) fs.renameSync(source, this.file);
    else fs.rmSync(this.file, { force: true });
    this.fd = fs.openSync(this.file, fs.existsSync(this.file) ? "r+" : "w+");
    this.index.clear();
    this.size = 0;
    this.deadBytes = 0;
    const keepVersion = this.lastVersion;
    this.scan(false);
    this.lastVersion = Math.max(this.lastVersion, keepVersion);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
