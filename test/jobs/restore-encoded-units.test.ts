/**
 * The restore Job's decoding of stored objects (src/jobs/restore/encoded.ts, #15) against an S3 client
 * in memory: the age-header check reads only the object's start and refuses a wrong, missing or
 * recipients-only key file; the decoded stream is the snapshot; the stored and decoded checks name what
 * differs; a corrupt object fails while it streams.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import type { S3Client } from "@aws-sdk/client-s3";
import { pino } from "pino";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import { encodeSnapshot } from "../../src/backup/codec/encode.ts";
import { isOperatorError } from "../../src/errors.ts";
import type { RestoreJobPlan, RestorePeerFile } from "../../src/jobs/restore/contract.ts";
import { AGE_HEADER_READ_BYTES, openDecoded, openHeaders } from "../../src/jobs/restore/encoded.ts";
import type { RestoreContext } from "../../src/jobs/restore/run-context.ts";
import { openObject } from "../../src/jobs/restore/stored-object.ts";
import { chunksOf, collect, keyFile, newKey } from "../backup/codec-fixtures.ts";

const BACKUP_ID = "20260115T020000Z-0b8a4d2e-0000-4000-8000-000000000001";
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A bucket in memory answering GetObject (Range too), recording each request's range. */
function bucket(objects: Map<string, Buffer>) {
  const ranges: Array<string | undefined> = [];
  const s3 = {
    send: (cmd: { input: { Key: string; Range?: string } }) => {
      const { Key, Range } = cmd.input;
      ranges.push(Range);
      const all = objects.get(Key);
      if (!all) return Promise.reject(Object.assign(new Error("no such key"), { name: "NoSuchKey" }));
      const m = Range ? /^bytes=(\d+)-(\d+)$/.exec(Range) : null;
      const body = m ? all.subarray(Number(m[1]), Number(m[2]) + 1) : all;
      return Promise.resolve({ Body: Readable.from(chunksOf(body, 16 * 1024)), ContentLength: body.length });
    },
  } as unknown as S3Client;
  return { s3, ranges };
}

function context(s3: S3Client, files: RestorePeerFile[], keys?: string): RestoreContext {
  return {
    plan: { backupId: BACKUP_ID, s3: { bucket: "b" }, files } as unknown as RestoreJobPlan,
    s3,
    log: pino({ level: "silent" }),
    signal: new AbortController().signal,
    ...(keys !== undefined ? { keys: parseAgeKeys(keys, "test") } : {}),
  } as unknown as RestoreContext;
}

async function fixture(size = 300 * 1024) {
  const key = await newKey();
  const snapshot = randomBytes(size);
  const stored = await collect(encodeSnapshot(chunksOf(snapshot), { compression: { algorithm: "zstd", level: 3 }, encryption: { keys: parseAgeKeys(keyFile(key), "test") } }));
  const file: RestorePeerFile = {
    sourcePeerId: "1",
    shardIds: [0],
    key: "k/peer-1.snapshot.zst.age",
    size: snapshot.length,
    sha256: sha(snapshot),
    stored: { size: stored.length, sha256: sha(stored) },
    compression: { algorithm: "zstd" },
    encryption: { scheme: "age-v1", keyRef: "age-key/keys.txt" },
  };
  return { key, snapshot, stored, file };
}

describe("restore Job: encoded objects", () => {
  test("the header check reads only the object's start, and passes with the identity listed after another (rotation)", async () => {
    const { key, stored, file } = await fixture();
    const other = await newKey();
    const b = bucket(new Map([[file.key, stored]]));
    assert.equal(await openHeaders(context(b.s3, [file, { sourcePeerId: "2", shardIds: [1], key: "plain", size: 1, sha256: file.sha256 }], keyFile(other, key))), 1);
    assert.deepEqual(b.ranges, [`bytes=0-${AGE_HEADER_READ_BYTES - 1}`], "one ranged GET, of the encrypted file only");
    assert.ok(stored.length > AGE_HEADER_READ_BYTES, "the object is longer than what is read");
  });

  test("a wrong identity, no key file, only recipients: refused by the header check", async () => {
    const { stored, file } = await fixture(1024);
    const b = bucket(new Map([[file.key, stored]]));
    const wrong = await newKey();
    await assert.rejects(openHeaders(context(b.s3, [file], keyFile(wrong))), (e: unknown) => isOperatorError(e, "DECRYPT_WRONG_IDENTITY") && /^cannot decrypt: wrong identity .*\(encrypted with the key age-key\/keys\.txt\)/.test(e.message));
    await assert.rejects(openHeaders(context(b.s3, [file])), (e: unknown) => isOperatorError(e, "ENCRYPTION_KEY_REQUIRED"));
    await assert.rejects(openHeaders(context(b.s3, [file], `${wrong.recipient}\n`)), (e: unknown) => isOperatorError(e, "DECRYPT_WRONG_IDENTITY"));
    await assert.rejects(openHeaders(context(bucket(new Map()).s3, [file], keyFile(wrong))), (e: unknown) => isOperatorError(e, "BACKUP_OBJECTS_MISSING"));
  });

  test("decoded, the stream is the snapshot and both checks pass; the object's size is checked against stored.size", async () => {
    const { key, snapshot, stored, file } = await fixture();
    const ctx = context(bucket(new Map([[file.key, stored]])).s3, [file], keyFile(key));
    const decoded = await openDecoded(ctx, file, await openObject(ctx, file));
    assert.ok((await collect(decoded.body)).equals(snapshot));
    decoded.check({ snapshot: true });
    const cut = context(bucket(new Map([[file.key, stored.subarray(0, stored.length - 1)]])).s3, [file], keyFile(key));
    await assert.rejects(openObject(cut, file), (e: unknown) => isOperatorError(e, "BACKUP_OBJECTS_MISSING") && e.message.includes(`the manifest says ${stored.length}`));
  });

  test("stored bytes that are not the manifest's: BackupCorrupt; decoded bytes that are not the snapshot's: ChecksumMismatch", async () => {
    const { key, stored, file } = await fixture(1024);
    const ctx = context(bucket(new Map([[file.key, stored]])).s3, [file], keyFile(key));
    const foreign = { ...file, stored: { size: stored.length, sha256: "0".repeat(64) } };
    const d1 = await openDecoded(ctx, foreign, await openObject(ctx, foreign));
    await collect(d1.body);
    assert.throws(() => d1.check({ snapshot: true }), (e: unknown) => isOperatorError(e, "BACKUP_CORRUPT") && /its stored bytes are SHA-256 [0-9a-f]{64}, the manifest says 0{64}/.test(e.message));
    const otherSnapshot = { ...file, sha256: "1".repeat(64) };
    const d2 = await openDecoded(ctx, otherSnapshot, await openObject(ctx, otherSnapshot));
    await collect(d2.body);
    assert.throws(() => d2.check({ snapshot: true }), (e: unknown) => isOperatorError(e, "SNAPSHOT_CHECKSUM_MISMATCH"));
    d2.check({ snapshot: false });
  });

  test("a flipped byte near the end: BackupCorrupt while streaming, after earlier chunks went out", async () => {
    const { key, stored, file } = await fixture();
    const flipped = Buffer.from(stored);
    flipped[flipped.length - 300] = flipped[flipped.length - 300]! ^ 0x40;
    const ctx = context(bucket(new Map([[file.key, flipped]])).s3, [file], keyFile(key));
    const decoded = await openDecoded(ctx, file, await openObject(ctx, file));
    let got = 0;
    await assert.rejects(
      (async () => {
        for await (const c of decoded.body) got += c.length;
      })(),
      (e: unknown) => isOperatorError(e, "BACKUP_CORRUPT") && e.message.includes(file.key),
    );
    assert.ok(got > 0, "some bytes were decoded before the corruption was found");
  });
});
