/** The snapshot codec: every encoding gives back the snapshot's bytes, and each changes what is stored. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import { decodeObject } from "../../src/backup/codec/decode.ts";
import { encodeSnapshot } from "../../src/backup/codec/encode.ts";
import type { EncodeSettings, ObjectEncoding } from "../../src/backup/codec/types.ts";
import { chunksOf, collect, digest, keyFile, newKey, realisticSnapshot } from "./codec-fixtures.ts";

const SIZE = 3 * 1024 * 1024 + 12345;

test("round trips of none, zstd, age and zstd+age on a realistic snapshot", async () => {
  const snapshot = await collect(realisticSnapshot(SIZE, 7));
  const keys = parseAgeKeys(keyFile(await newKey()), "test key file");
  const cases: { name: string; settings: EncodeSettings; encoding: ObjectEncoding }[] = [
    { name: "none", settings: {}, encoding: {} },
    { name: "zstd", settings: { compression: { algorithm: "zstd", level: 3 } }, encoding: { compression: { algorithm: "zstd" } } },
    { name: "age", settings: { encryption: { keys } }, encoding: { encryption: { scheme: "age-v1" } } },
    {
      name: "zstd+age",
      settings: { compression: { algorithm: "zstd", level: 3 }, encryption: { keys } },
      encoding: { compression: { algorithm: "zstd" }, encryption: { scheme: "age-v1" } },
    },
  ];
  const want = await digest(chunksOf(snapshot));
  for (const c of cases) {
    const stored = await collect(encodeSnapshot(chunksOf(snapshot, 100_000), c.settings));
    if (c.name === "none") assert.ok(stored.equals(snapshot), c.name);
    else assert.ok(!stored.equals(snapshot), `${c.name}: the stored bytes are transformed`);
    if (c.name === "zstd") assert.ok(stored.length < snapshot.length, `zstd: ${stored.length} < ${snapshot.length}`);
    if (c.name.includes("age")) assert.equal(stored.subarray(0, 22).toString(), "age-encryption.org/v1\n", c.name);
    if (c.name === "zstd") assert.equal(stored.readUInt32LE(0), 0xfd2fb528, "zstd: a zstd frame's magic number");
    const back = await digest(await decodeObject(chunksOf(stored, 77_777), c.encoding, keys, `object ${c.name}`));
    assert.deepEqual(back, want, c.name);
  }
});
