/**
 * A minimal POSIX tar (ustar + pax path records) writer and reader, enough for snapshot archives. Both work
 * on local files with positional I/O and fixed-size buffers, so archive size never shows in memory: the
 * writer hashes what it writes (the snapshot's SHA-256 comes for free) and the reader yields entry offsets
 * instead of contents.
 */
import { createHash, type Hash } from "node:crypto";
import * as fsp from "node:fs/promises";

const BLOCK = 512;

export class TarFormatError extends Error {}

function writeOctal(buf: Buffer, value: number, offset: number, length: number): void {
  const text = value.toString(8).padStart(length - 1, "0");
  if (text.length > length - 1) {
    // Base-256 encoding for sizes beyond the octal field (8 GiB for 12-byte fields).
    buf[offset] = 0x80;
    let v = BigInt(value);
    for (let i = offset + length - 1; i > offset; i--) {
      buf[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return;
  }
  buf.write(`${text}\0`, offset, length, "ascii");
}

function readNumber(buf: Buffer, offset: number, length: number): number {
  if (((buf[offset] ?? 0) & 0x80) !== 0) {
    let v = 0n;
    for (let i = offset + 1; i < offset + length; i++) v = (v << 8n) | BigInt(buf[i] ?? 0);
    return Number(v);
  }
  const text = buf.toString("ascii", offset, offset + length).replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError("archive header numeric field is invalid");
  return parseInt(text, 8);
}

function header(name: string, size: number, type: "0" | "5" | "x", mtime: number): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(name.slice(0, 100), 0, 100, "utf8");
  writeOctal(buf, type === "5" ? 0o755 : 0o644, 100, 8);
  writeOctal(buf, 0, 108, 8);
  writeOctal(buf, 0, 116, 8);
  writeOctal(buf, size, 124, 12);
  writeOctal(buf, mtime, 136, 12);
  buf.fill(0x20, 148, 156);
  buf.write(type, 156, 1, "ascii");
  buf.write("ustar\0", 257, 6, "ascii");
  buf.write("00", 263, 2, "ascii");
  let sum = 0;
  for (const b of buf) sum += b;
  buf.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
  return buf;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return Buffer.from(`${len}${body}`, "utf8");
}

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

/** Appends entries to a file, hashing every byte written. */
export class TarWriter {
  private readonly fh: fsp.FileHandle;
  private readonly hash: Hash = createHash("sha256");
  private position = 0;
  private readonly mtime = Math.floor(Date.now() / 1000);

  private constructor(fh: fsp.FileHandle) {
    this.fh = fh;
  }

  static async create(file: string): Promise<TarWriter> {
    return new TarWriter(await fsp.open(file, "w"));
  }

  get bytesWritten(): number {
    return this.position;
  }

  private async raw(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, off, buf.length - off, this.position);
      off += bytesWritten;
      this.position += bytesWritten;
    }
    this.hash.update(buf);
  }

  private async entryHeader(name: string, size: number, type: "0" | "5"): Promise<void> {
    if (Buffer.byteLength(name) > 100) {
      const pax = paxRecord("path", name);
      await this.raw(header("././@PaxHeader", pax.length, "x", this.mtime));
      await this.raw(pax);
      await this.raw(Buffer.alloc(padding(pax.length)));
    }
    await this.raw(header(name, size, type, this.mtime));
  }

  async addDirectory(name: string): Promise<void> {
    await this.entryHeader(name.endsWith("/") ? name : `${name}/`, 0, "5");
  }

  async addBuffer(name: string, data: Buffer): Promise<void> {
    await this.entryHeader(name, data.length, "0");
    await this.raw(data);
    await this.raw(Buffer.alloc(padding(data.length)));
  }

  /**
   * Adds an entry whose `size` is known up front and whose bytes `produce` pushes through `write`. Fails if
   * the producer writes a different amount (the header would lie).
   */
  async addStream(name: string, size: number, produce: (write: (b: Buffer) => Promise<void>) => Promise<void>): Promise<void> {
    await this.entryHeader(name, size, "0");
    let written = 0;
    await produce(async (b) => {
      written += b.length;
      await this.raw(b);
    });
    if (written !== size) throw new Error(`tar entry ${name}: wrote ${written} bytes, header says ${size}`);
    await this.raw(Buffer.alloc(padding(size)));
  }

  /** Copies `length` bytes of a file into the current entry through a fixed 1 MiB buffer. */
  static async copyRange(source: fsp.FileHandle, offset: number, length: number, write: (b: Buffer) => Promise<void>): Promise<void> {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(length, 1)));
    let done = 0;
    while (done < length) {
      const want = Math.min(buf.length, length - done);
      const { bytesRead } = await source.read(buf, 0, want, offset + done);
      if (bytesRead === 0) throw new Error("unexpected end of file while copying into archive");
      await write(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
  }

  /** Writes the two end-of-archive blocks, closes the file and returns the SHA-256 (lower-case hex). */
  async finish(): Promise<string> {
    await this.raw(Buffer.alloc(BLOCK * 2));
    await this.fh.sync();
    await this.fh.close();
    return this.hash.digest("hex");
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

export interface TarEntry {
  name: string;
  type: "file" | "directory" | "other";
  size: number;
  /** Offset of the entry's data in the archive file. */
  offset: number;
}

/** Lists a tar file's entries, checking header checksums and that every entry's data is present. */
export async function readTarEntries(file: string): Promise<TarEntry[]> {
  const fh = await fsp.open(file, "r");
  try {
    const total = (await fh.stat()).size;
    const entries: TarEntry[] = [];
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    let paxPath: string | undefined;
    for (;;) {
      // Like Rust's `tar` crate (which Qdrant unpacks with), end of input at a block boundary ends the
      // archive cleanly, even without the two zero blocks; an empty file is an archive with no entries.
      if (pos === total) break;
      if (pos + BLOCK > total) throw new TarFormatError("failed to read entire block");
      await fh.read(block, 0, BLOCK, pos);
      if (block.every((b) => b === 0)) break;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
      if (readNumber(block, 148, 8) !== sum) throw new TarFormatError("archive header checksum mismatch");
      const size = readNumber(block, 124, 12);
      const typeFlag = String.fromCharCode(block[156] ?? 0);
      const magicUstar = block.toString("ascii", 257, 262) === "ustar";
      const prefix = magicUstar ? block.toString("utf8", 345, 500).replace(/\0.*$/s, "") : "";
      const baseName = block.toString("utf8", 0, 100).replace(/\0.*$/s, "");
      const dataOffset = pos + BLOCK;
      if (dataOffset + size > total) throw new TarFormatError("unexpected end of file");
      pos = dataOffset + size + padding(size);
      if (typeFlag === "x") {
        const data = Buffer.alloc(size);
        await fh.read(data, 0, size, dataOffset);
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
        paxPath = m?.[1];
        continue;
      }
      if (typeFlag === "g") continue;
      const name = paxPath ?? (prefix !== "" ? `${prefix}/${baseName}` : baseName);
      paxPath = undefined;
      const type = typeFlag === "0" || typeFlag === "\0" ? "file" : typeFlag === "5" ? "directory" : "other";
      entries.push({ name: name.replace(/^\.\//, ""), type, size, offset: dataOffset });
    }
    return entries;
  } finally {
    await fh.close();
  }
}

/** Reads a (small) entry's content. */
export async function readEntry(file: string, entry: TarEntry): Promise<Buffer> {
  const fh = await fsp.open(file, "r");
  try {
    const buf = Buffer.alloc(entry.size);
    await fh.read(buf, 0, entry.size, entry.offset);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Copies an entry's data into its own file through a fixed buffer. */
export async function extractEntry(file: string, entry: TarEntry, dest: string): Promise<void> {
  const src = await fsp.open(file, "r");
  const out = await fsp.open(dest, "w");
  try {
    let pos = 0;
    await TarWriter.copyRange(src, entry.offset, entry.size, async (b) => {
      await out.write(b, 0, b.length, pos);
      pos += b.length;
    });
  } finally {
    await src.close();
    await out.close();
  }
}
