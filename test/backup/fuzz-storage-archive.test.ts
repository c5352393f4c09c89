/**
 * A fuzzer for the restore Job's reader of a full-storage archive (openCollectionEntry,
 * src/backup/layout/storage-archive.ts): a valid archive in Qdrant's layout (each collection's snapshot,
 * then config.json) cut at every byte, and with bytes of its headers and config.json changed. Whatever
 * the bytes, the reader either hands out the entry (its body exactly `size` bytes, then `rest()`), or
 * fails with a coded error of the registry (SnapshotCorrupt, CollectionNotInBackup) — never a TypeError,
 * RangeError or a hang — which the Job reports naming the archive's key. Seeded: FUZZ_SEED replays.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { isOperatorError } from "../../src/errors.ts";
import { openCollectionEntry } from "../../src/backup/layout/storage-archive.ts";
import { TarWriter } from "../emulator/tar.ts";
import { fuzzSeed, prng } from "./fuzz-prng.ts";

const ENTRY = "docs-111-2026-01-15-02-00-05.snapshot";
let archive: Buffer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "fuzz-archive-"));
  const file = join(dir, "full.tar");
  const w = await TarWriter.create(file);
  await w.addBuffer("other-111-2026-01-15-02-00-05.snapshot", Buffer.alloc(700, 7));
  await w.addBuffer(ENTRY, Buffer.from(Array.from({ length: 1500 }, (_, i) => i % 251)));
  await w.addBuffer("config.json", Buffer.from(JSON.stringify({ collections_mapping: { docs: ENTRY, other: "other-111-2026-01-15-02-00-05.snapshot" }, collections_aliases: { prod: "docs" } })));
  await w.finish();
  archive = await readFile(file);
});
after(() => rm(dir, { recursive: true, force: true }));

/** Reads the docs entry out of `bytes` in odd-sized chunks; "ok", or the coded error's reason. */
async function read(bytes: Buffer, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 333) chunks.push(bytes.subarray(i, i + 333));
  try {
    const entry = await openCollectionEntry(Readable.from(chunks), "docs", { peerId: "111" });
    let got = 0;
    for await (const c of entry.body) got += (c as Buffer).length;
    assert.equal(got, entry.size, `${what}: the body is its size`);
    await entry.rest();
    return "ok";
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(isOperatorError(err), `${what}: not a coded error: ${(err as Error).stack ?? String(err)}`);
    return err.reason;
  }
}

test("the valid archive reads (the fuzzer's starting point)", async () => {
  assert.equal(await read(archive, "valid"), "ok");
});

test("an archive cut at every byte fails with a coded error, or reads when only end blocks were cut", async () => {
  const reasons = new Map<string, number>();
  for (let i = 0; i < archive.length; i++) {
    const r = await read(archive.subarray(0, i), `cut at ${i}`);
    reasons.set(r, (reasons.get(r) ?? 0) + 1);
  }
  assert.ok((reasons.get("SnapshotCorrupt") ?? 0) > 0, JSON.stringify([...reasons]));
});

test("changed header and config.json bytes never crash the reader", async (t) => {
  const rnd = prng(fuzzSeed(t));
  // The header blocks and config.json's data: where a change alters structure, not only a snapshot's bytes.
  const regions: number[] = [];
  for (let off = 0; off + 512 <= archive.length; off += 512) {
    const block = archive.subarray(off, off + 512);
    if (block.includes(Buffer.from("ustar")) || block.includes(Buffer.from("collections_mapping"))) for (let i = 0; i < 512; i++) regions.push(off + i);
  }
  assert.ok(regions.length >= 512 * 4, "four headers and config.json's block");
  for (let n = 0; n < 1500; n++) {
    const bytes = Buffer.from(archive);
    const at: number[] = [];
    for (let f = 1 + rnd.int(3); f > 0; f--) {
      const i = rnd.pick(regions);
      at.push(i);
      bytes[i] = rnd.chance(0.5) ? bytes[i]! ^ (1 << rnd.int(8)) : rnd.pick([0, 0x30, 0x37, 0x20, 0xff, 0x80, rnd.int(256)]);
    }
    await read(bytes, `case ${n}: bytes changed at ${at.join(", ")}`);
  }
});
