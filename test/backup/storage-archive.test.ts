/**
 * openCollectionEntry (src/backup/layout/storage-archive.ts): one collection's snapshot out of a
 * full-storage archive while it streams. Against the archives the emulator's full-storage snapshot makes
 * (Qdrant's layout: every collection's file, then config.json), with the whole archive hashed as it
 * flows; against GNU tar's own archives (long names as `././@LongLink`, as Rust's tar::Builder writes
 * them); and against hand-made edge cases (pax, ustar prefix, base-256 sizes, config.json first, a
 * mapping that names another file, truncation, a broken header).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Readable, Transform } from "node:stream";
import { isOperatorError } from "../../src/errors.ts";
import { isCollectionSnapshotName, openCollectionEntry } from "../../src/backup/layout/storage-archive.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { readEntry, readTarEntries } from "../emulator/tar.ts";

async function readAll(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** The archive in chunks of `size` bytes (odd sizes put headers across chunk boundaries). */
function chunked(bytes: Buffer, size = 777): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

/** Opens the entry, reads its body and the rest; returns the body and the digest of everything that flowed. */
async function extract(archive: Buffer, collection: string, peerId?: string): Promise<{ name: string; body: Buffer; sha256: string }> {
  const hash = createHash("sha256");
  const hashed = chunked(archive).pipe(
    new Transform({
      transform(c: Buffer, _e, done) {
        hash.update(c);
        done(null, c);
      },
    }),
  );
  const entry = await openCollectionEntry(hashed, collection, peerId !== undefined ? { peerId } : {});
  const body = await readAll(entry.body);
  assert.equal(body.length, entry.size);
  await entry.rest();
  return { name: entry.name, body, sha256: hash.digest("hex") };
}

function isCode(code: string, pattern?: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isOperatorError(err), String(err));
    assert.equal(err.code, code, err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  };
}

// --- a hand-made tar writer for the edge cases ---

function octal(buf: Buffer, value: number, offset: number, length: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, "0")}\0`, offset, length, "latin1");
}

interface HeaderOpts {
  type?: string;
  format?: "ustar" | "gnu";
  prefix?: string;
  base256?: boolean;
  size?: number;
}

function header(name: string, size: number, o: HeaderOpts = {}): Buffer {
  const b = Buffer.alloc(512);
  b.write(name.slice(0, 100), 0, 100, "utf8");
  octal(b, 0o644, 100, 8);
  octal(b, 0, 108, 8);
  octal(b, 0, 116, 8);
  if (o.base256) {
    b[124] = 0x80;
    b.writeUIntBE(o.size ?? size, 130, 6);
  } else octal(b, o.size ?? size, 124, 12);
  octal(b, 1_700_000_000, 136, 12);
  b.fill(0x20, 148, 156);
  b.write(o.type ?? "0", 156, 1, "latin1");
  if (o.format === "gnu") b.write("ustar  \0", 257, 8, "latin1");
  else {
    b.write("ustar\0", 257, 6, "latin1");
    b.write("00", 263, 2, "latin1");
    if (o.prefix) b.write(o.prefix, 345, 155, "utf8");
  }
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return b;
}

const pad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);

function file(name: string, data: Buffer, o: HeaderOpts = {}): Buffer {
  return Buffer.concat([header(name, data.length, o), data, pad(data.length)]);
}

function gnuLong(name: string, data: Buffer): Buffer {
  const n = Buffer.from(`${name}\0`);
  return Buffer.concat([header("././@LongLink", n.length, { type: "L", format: "gnu" }), n, pad(n.length), file(name.slice(0, 100), data, { format: "gnu" })]);
}

function pax(name: string, data: Buffer): Buffer {
  const body = ` path=${name}\n`;
  let len = Buffer.byteLength(body) + 2;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  const rec = Buffer.from(`${len}${body}`);
  return Buffer.concat([header("././@PaxHeader", rec.length, { type: "x" }), rec, pad(rec.length), file(name.slice(0, 100), data)]);
}

const config = (mapping: Record<string, string>): Buffer => file("config.json", Buffer.from(JSON.stringify({ collections_mapping: mapping, collections_aliases: {} })));
const end = Buffer.alloc(1024);
const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

describe("isCollectionSnapshotName", () => {
  const table: Array<[string, string, string | undefined, boolean]> = [
    ["docs-4055323081365525-2026-12-02-01-01-05.snapshot", "docs", undefined, true],
    ["docs-v2-4055323081365525-2026-12-02-01-01-05.snapshot", "docs", undefined, false],
    ["docs-v2-4055323081365525-2026-12-02-01-01-05.snapshot", "docs-v2", undefined, true],
    ["docs_1-7-2026-12-02-01-01-05.snapshot", "docs", undefined, false],
    ["docs-7-2026-12-02-01-01-05-123.snapshot", "docs", undefined, true],
    ["docs-7-2026-12-02-01-01-05-123-2.snapshot", "docs", undefined, true],
    ["docs-7-2026-12-02-01-01-05.snapshot", "docs", "7", true],
    ["docs-7-2026-12-02-01-01-05.snapshot", "docs", "8", false],
    ["docs-7-2026-12-02.snapshot", "docs", undefined, false],
    ["docs-7-2026-12-02-01-01-05.snapshot.checksum", "docs", undefined, false],
    ["a.b-1-2026-12-02-01-01-05.snapshot", "a.b", undefined, true],
    ["axb-1-2026-12-02-01-01-05.snapshot", "a.b", undefined, false],
  ];
  for (const [name, collection, peer, expected] of table) {
    it(`${name} ${expected ? "is" : "is not"} ${collection}'s${peer ? ` (peer ${peer})` : ""}`, () => {
      assert.equal(isCollectionSnapshotName(name, collection, peer), expected);
    });
  }
});

describe("openCollectionEntry on the emulator's full-storage archives", () => {
  let emu: EmulatorHandle;
  let api: QdrantApi;
  let archive: Buffer;
  let sha256: string;
  let dir: string;
  const longName = `l${"o".repeat(150)}ng`;
  const names = ["docs", "docs-v2", "docs_1", longName];
  before(async () => {
    emu = await startEmulator();
    api = new QdrantApi({ url: emu.url, timeoutMs: 30_000 });
    for (const [i, c] of names.entries()) {
      await api.createCollection(c, { vectors: { size: 4, distance: "Dot" } });
      await api.upsert(c, Array.from({ length: 5 + i }, (_, k) => ({ id: k + 1, vector: [k, i, 1, 0], payload: { c } })));
    }
    const made = await api.createSnapshot({ fullStorage: true });
    archive = await readAll((await api.downloadSnapshot({ fullStorage: true }, made.name)).body);
    sha256 = made.checksum ?? "";
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "storage-archive-"));
    fs.writeFileSync(path.join(dir, "full.snapshot"), archive);
  });
  after(async () => {
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const collection of names) {
    it(`takes ${collection.length > 20 ? "a 155-character name" : collection}'s snapshot out, byte for byte, and the whole archive flows past`, async () => {
      const got = await extract(archive, collection);
      const entries = await readTarEntries(path.join(dir, "full.snapshot"));
      const inTar = entries.find((e) => e.name === got.name);
      assert.ok(inTar, `${got.name} is an entry`);
      assert.ok(isCollectionSnapshotName(got.name, collection));
      assert.deepEqual(got.body, await readEntry(path.join(dir, "full.snapshot"), inTar));
      assert.equal(got.sha256, sha256);
    });
  }

  it("hands out a snapshot Qdrant recovers: uploaded into a new name, the collection's points come back", async () => {
    const entry = await openCollectionEntry(chunked(archive), "docs-v2");
    const { bytes: sent } = await api.uploadSnapshot("restored", entry.body, { size: entry.size, filename: entry.name, beforeEnd: entry.rest });
    assert.equal(sent, entry.size);
    assert.equal(await api.count("restored"), 6);
    const page = await api.scroll("restored", { limit: 1, with_payload: true });
    assert.deepEqual(page.points[0]?.payload, { c: "docs-v2" });
  });

  it("names what the archive holds when the collection is not in it", async () => {
    await assert.rejects(openCollectionEntry(chunked(archive), "doc"), isCode("COLLECTION_NOT_IN_BACKUP", /"doc".*"docs", "docs-v2", "docs_1"/));
  });
});

describe("openCollectionEntry on hand-made and GNU tar archives", () => {
  const a = bytes(1500, 1);
  const b = bytes(512, 2);
  const aName = "docs-11-2026-12-02-01-01-05.snapshot";
  const bName = "docs-v2-11-2026-12-02-01-01-05.snapshot";

  it("finds the entry by the naming rule when config.json comes last, as Qdrant writes it", async () => {
    const tar = Buffer.concat([file(bName, b), file(aName, a), config({ "docs-v2": bName, docs: aName }), end]);
    const got = await extract(tar, "docs");
    assert.equal(got.name, aName);
    assert.deepEqual(got.body, a);
    assert.equal(got.sha256, createHash("sha256").update(tar).digest("hex"));
  });

  it("follows config.json's mapping when it comes first", async () => {
    const odd = "renamed.bin";
    const tar = Buffer.concat([config({ docs: odd }), file(aName, b), file(odd, a), end]);
    const got = await extract(tar, "docs");
    assert.equal(got.name, odd);
    assert.deepEqual(got.body, a);
  });

  it("refuses in rest() when a later config.json maps the collection to another file", async () => {
    const other = "docs-12-2026-12-02-01-01-06.snapshot";
    const tar = Buffer.concat([file(aName, a), file(other, b), config({ docs: other }), end]);
    const entry = await openCollectionEntry(chunked(tar), "docs");
    await readAll(entry.body);
    await assert.rejects(entry.rest(), isCode("SNAPSHOT_CORRUPT", /maps collection "docs" to "docs-12-/));
  });

  it("matches only the given peer's file when asked", async () => {
    const other = "docs-12-2026-12-02-01-01-06.snapshot";
    const tar = Buffer.concat([file(aName, a), file(other, b), end]);
    assert.deepEqual((await extract(tar, "docs", "12")).body, b);
  });

  it("reads GNU long names, pax paths, ustar prefixes and base-256 sizes", async () => {
    const long = `${"c".repeat(240)}-3-2026-12-02-01-01-05.snapshot`;
    const collection = "c".repeat(240);
    assert.deepEqual((await extract(Buffer.concat([file(aName, b), gnuLong(long, a), end]), collection)).body, a);
    assert.deepEqual((await extract(Buffer.concat([pax(long, a), file(aName, b), end]), collection)).body, a);
    assert.deepEqual((await extract(Buffer.concat([file("x-1-2026-12-02-01-01-05.snapshot", a, { prefix: "." }), end]), "x")).body, a);
    assert.deepEqual((await extract(Buffer.concat([file(bName, b, { base256: true, format: "gnu" }), file(aName, a, { base256: true, format: "gnu" }), end]), "docs")).body, a);
  });

  it("reads what GNU tar writes for names over 100 bytes (././@LongLink, as Rust's tar::Builder)", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gnu-tar-"));
    try {
      const collection = `g${"n".repeat(200)}u`;
      const name = `${collection}-9-2026-12-02-01-01-05.snapshot`;
      fs.writeFileSync(path.join(dir, name), a);
      fs.writeFileSync(path.join(dir, bName), b);
      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ collections_mapping: { [collection]: name, "docs-v2": bName } }));
      execFileSync("tar", ["--format=gnu", "-cf", path.join(dir, "full.tar"), "-C", dir, bName, name, "config.json"]);
      const tar = fs.readFileSync(path.join(dir, "full.tar"));
      assert.ok(tar.includes(Buffer.from("././@LongLink")), "GNU tar wrote a long-name entry");
      const got = await extract(tar, collection);
      assert.equal(got.name, name);
      assert.deepEqual(got.body, a);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("ends cleanly at a block boundary without the zero blocks", async () => {
    assert.deepEqual((await extract(Buffer.concat([file(aName, a)]), "docs")).body, a);
  });

  it("fails the body when the archive ends inside the entry", async () => {
    const tar = Buffer.concat([file(bName, b), file(aName, a)]).subarray(0, 512 + 512 + 512 + 1000);
    const entry = await openCollectionEntry(chunked(tar), "docs");
    await assert.rejects(readAll(entry.body), isCode("SNAPSHOT_CORRUPT", /ends inside docs-11-.*\(1000 of 1500 bytes\)/));
  });

  it("refuses a header with a wrong checksum, and what is not a tar at all", async () => {
    const tar = Buffer.concat([file(bName, b), file(aName, a), end]);
    tar[512 + 512 + 10] = 0x41;
    await assert.rejects(openCollectionEntry(chunked(tar), "docs"), isCode("SNAPSHOT_CORRUPT", /header at byte 1024 has a wrong checksum/));
    await assert.rejects(openCollectionEntry(chunked(Buffer.from("{\"not\": \"a tar\"}".padEnd(600, " "))), "docs"), isCode("SNAPSHOT_CORRUPT"));
  });

  it("is COLLECTION_NOT_IN_BACKUP, naming the entries, for an archive without config.json or the collection", async () => {
    await assert.rejects(openCollectionEntry(chunked(Buffer.concat([file(bName, b), end])), "docs"), isCode("COLLECTION_NOT_IN_BACKUP", /entries "docs-v2-11-/));
    await assert.rejects(openCollectionEntry(chunked(Buffer.alloc(0)), "docs"), isCode("COLLECTION_NOT_IN_BACKUP", /\(none\)/));
  });

  it("stops with the signal's reason", async () => {
    const ctl = new AbortController();
    const reason = new Error("stopped");
    async function* slow(): AsyncGenerator<Buffer> {
      yield file(bName, b);
      ctl.abort(reason);
      await new Promise(() => undefined);
    }
    await assert.rejects(openCollectionEntry(Readable.from(slow()), "docs", { signal: ctl.signal }), (err) => err === reason);
  });
});
