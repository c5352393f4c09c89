/** The codec's refusals: wrong or missing keys before any plaintext, broken bytes as BackupCorrupt, bad key files. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isOperatorError } from "../../src/errors.ts";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import { decodeObject } from "../../src/backup/codec/decode.ts";
import { encodeSnapshot } from "../../src/backup/codec/encode.ts";
import type { ObjectEncoding } from "../../src/backup/codec/types.ts";
import { chunksOf, collect, digest, keyFile, newKey, realisticSnapshot } from "./codec-fixtures.ts";

const ZSTD: ObjectEncoding = { compression: { algorithm: "zstd" } };
const AGE: ObjectEncoding = { encryption: { scheme: "age-v1" } };
const SIZE = 1024 * 1024 + 333;

test("compression level is honoured: a higher level stores fewer bytes", async () => {
  const snapshot = await collect(realisticSnapshot(4 * 1024 * 1024, 3));
  const at = async (level: number) => (await collect(encodeSnapshot(chunksOf(snapshot), { compression: { algorithm: "zstd", level } }))).length;
  const [one, nineteen] = [await at(1), await at(19)];
  assert.ok(nineteen < one, `level 19: ${nineteen} bytes < level 1: ${one} bytes`);
  assert.ok(one < snapshot.length);
});

test("rotation: backups encrypt to the first identity and the recipient lines; the old identity, listed second, opens old objects", async () => {
  const [oldKey, newKeyPair, extra] = [await newKey(), await newKey(), await newKey()];
  const snapshot = await collect(realisticSnapshot(SIZE, 4));
  const before = parseAgeKeys(keyFile(oldKey), "old file");
  const stored = await collect(encodeSnapshot(chunksOf(snapshot), { encryption: { keys: before } }));
  const rotated = parseAgeKeys(`${keyFile(newKeyPair, oldKey)}\n# a second party\n${extra.recipient}\n`, "rotated file");
  assert.deepEqual(rotated.identities, [newKeyPair.identity, oldKey.identity]);
  assert.deepEqual(rotated.recipients, [newKeyPair.recipient, extra.recipient]);
  const back = await collect(await decodeObject(chunksOf(stored), AGE, rotated, "old object"));
  assert.ok(back.equals(snapshot));
  // A new backup opens with the new identity alone and with the extra recipient's, never with the old one.
  const fresh = await collect(encodeSnapshot(chunksOf(snapshot), { encryption: { keys: rotated } }));
  for (const k of [newKeyPair, extra]) assert.ok((await collect(await decodeObject(chunksOf(fresh), AGE, { identities: [k.identity], recipients: [] }, "new"))).equals(snapshot));
  await assert.rejects(decodeObject(chunksOf(fresh), AGE, { identities: [oldKey.identity], recipients: [] }, "new"), (e) => isOperatorError(e, "DECRYPT_WRONG_IDENTITY"));
});

test("a wrong identity, no identity, no key file: refused before any plaintext", async () => {
  const [right, wrong] = [await newKey(), await newKey()];
  const stored = await collect(encodeSnapshot(realisticSnapshot(SIZE, 5), { encryption: { keys: parseAgeKeys(keyFile(right), "f") } }));
  await assert.rejects(decodeObject(chunksOf(stored), AGE, parseAgeKeys(keyFile(wrong), "f"), "peer-1.snapshot.age", { keyRef: "keys/age.txt", recipients: [right.recipient] }), (e) => {
    assert.ok(isOperatorError(e, "DECRYPT_WRONG_IDENTITY"));
    assert.match(e.message, /^cannot decrypt: wrong identity \(none of the 1 identity in the key file keys\/age.txt opens peer-1.snapshot.age; it was encrypted to age1/);
    assert.ok(!e.message.includes("AGE-SECRET-KEY"));
    return true;
  });
  await assert.rejects(decodeObject(chunksOf(stored), AGE, parseAgeKeys(right.recipient, "f"), "o"), (e) => isOperatorError(e, "DECRYPT_WRONG_IDENTITY") && /the key file has no identities/.test(e.message));
  await assert.rejects(decodeObject(chunksOf(stored), AGE, undefined, "o"), (e) => isOperatorError(e, "ENCRYPTION_KEY_REQUIRED"));
});

test("a flipped byte in the middle and a truncation: BackupCorrupt naming the object, for zstd and for age", async () => {
  const keys = parseAgeKeys(keyFile(await newKey()), "f");
  for (const [name, encoding, settings] of [
    ["zstd", ZSTD, { compression: { algorithm: "zstd" as const, level: 3 } }],
    ["age", AGE, { encryption: { keys } }],
  ] as const) {
    const stored = await collect(encodeSnapshot(realisticSnapshot(SIZE, 6), settings));
    const flipped = Buffer.from(stored);
    flipped[flipped.length >> 1]! ^= 0x10;
    for (const [how, bytes] of [["flipped", flipped], ["truncated", stored.subarray(0, stored.length - 100)], ["cut at half", stored.subarray(0, stored.length >> 1)]] as const) {
      const what = `peer-1 (${name}, ${how})`;
      await assert.rejects(async () => digest(await decodeObject(chunksOf(bytes), encoding, keys, what)), (e) => {
        assert.ok(isOperatorError(e, "BACKUP_CORRUPT"), `${what}: ${String(e)}`);
        assert.ok(e.message.includes(what), e.message);
        return true;
      });
    }
  }
});

test("the source's own error propagates unchanged", async () => {
  const boom = new Error("S3 connection reset");
  async function* failing(): AsyncGenerator<Buffer> {
    yield* realisticSnapshot(200_000, 1);
    throw boom;
  }
  await assert.rejects(digest(await decodeObject(failing(), ZSTD, undefined, "o")), (e) => e === boom);
  await assert.rejects(digest(encodeSnapshot(failing(), { compression: { algorithm: "zstd", level: 3 } })), (e) => e === boom);
});

test("a bad key file: InvalidEncryptionKey naming the field, never the key text", async () => {
  const k = await newKey();
  const broken = k.identity.slice(0, -3) + "QQQ";
  for (const text of [broken, `# ok\n${k.identity}\nnot-a-key-line\n`, "# only comments\n\n", k.recipient.slice(0, -2) + "qq"]) {
    assert.throws(() => parseAgeKeys(text, "secret keys/age.txt"), (e) => {
      assert.ok(isOperatorError(e, "ENCRYPTION_KEY_INVALID"), String(e));
      assert.ok(e.message.startsWith("secret keys/age.txt"), e.message);
      for (const secret of [broken, k.identity, "not-a-key-line"]) assert.ok(!e.message.includes(secret), e.message);
      return true;
    });
  }
});
