/** The restore Job's pure parts: the plan checker, the result reader and its claim, the shrinking success, redaction of presigned URLs. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { randomUUID } from "node:crypto";
import type { RestoreJobPlan, RestoreJobSuccess } from "../../src/jobs/restore/contract.ts";
import { restorePlan } from "../../src/jobs/restore/plan.ts";
import { claimOf, provisionalFailure, restoreResults, smallerRestoreResults } from "../../src/jobs/restore/result.ts";
import { registerPresigned } from "../../src/jobs/restore/pull.ts";
import { uploadName } from "../../src/jobs/restore/upload.ts";
import { encodeResult, MAX_TERMINATION_MESSAGE_BYTES } from "../../src/jobs/protocol/termination-message.ts";
import { isOperatorError } from "../../src/errors.ts";
import { Redactor, REDACTED } from "../../src/runtime/redact.ts";

const SHA = "a".repeat(64);
const BACKUP_ID = "20260115T020000Z-0b8a4d2e-0000-4000-8000-000000000001";

function plan(over: Partial<RestoreJobPlan> = {}): RestoreJobPlan {
  return {
    version: 1,
    restore: { namespace: "team-a", name: "r", uid: randomUUID() },
    attempt: 1,
    backupId: BACKUP_ID,
    mode: "Collection",
    sourceCollection: "docs",
    targetCollection: "docs_restored",
    method: "Pull",
    priority: "snapshot",
    overwrite: false,
    ownedTarget: false,
    files: [{ sourcePeerId: "1", shardIds: [0], key: "k/peer-1.snapshot", size: 10, sha256: SHA }],
    expectedPoints: 5,
    verify: { waitForGreen: true, comparePointsCount: true, timeoutSeconds: 60 },
    qdrant: { url: "http://q:6333", timeoutSeconds: 10, discovery: { mode: "Cluster", restPort: 6333, scheme: "http" } },
    s3: { bucket: "b", region: "us-east-1", forcePathStyle: true },
    presignSeconds: 900,
    ...over,
  };
}

describe("restore plan checker", () => {
  test("a good plan has no problems", () => assert.deepEqual(restorePlan.problems(plan()), []));
  test("a compressed and encrypted object by Upload, with its stored size and SHA-256, is a good plan", () => {
    const files = [{ sourcePeerId: "1", shardIds: [0], key: "a.snapshot.zst.age", size: 10, sha256: SHA, stored: { size: 7, sha256: SHA }, compression: { algorithm: "zstd" as const }, encryption: { scheme: "age-v1" as const, keyRef: "age-key/keys.txt" } }];
    assert.deepEqual(restorePlan.problems(plan({ method: "Upload", files })), []);
  });

  const rows: Array<[string, Partial<RestoreJobPlan>, RegExp]> = [
    ["a backup id that is not one", { backupId: "nope" }, /plan\.backupId: "nope" is not a backup id/],
    ["a target Qdrant cannot take", { targetCollection: "a/b" }, /plan\.targetCollection: "a\/b" is not a collection name/],
    ["a dot-segment target", { targetCollection: ".." }, /plan\.targetCollection/],
    ["FullStorage by Pull", { mode: "FullStorage", method: "Pull" }, /plan\.method: a FullStorage backup restores only by Upload/],
    [
      "two files of one source peer",
      { files: [{ sourcePeerId: "1", shardIds: [0], key: "a", size: 1, sha256: SHA }, { sourcePeerId: "1", shardIds: [1], key: "b", size: 1, sha256: SHA }] },
      /plan\.files\[1\]\.sourcePeerId: "1" is also files\[0\]'s/,
    ],
    ["no file with a shard", { files: [{ sourcePeerId: "1", shardIds: [], key: "a", size: 1, sha256: SHA }] }, /plan\.files: no file holds a shard/],
    ["a compressed object by Pull", { files: [{ sourcePeerId: "1", shardIds: [0], key: "a", size: 1, sha256: SHA, stored: { size: 1, sha256: SHA }, compression: { algorithm: "zstd" } }] }, /plan\.files\[0\]: is compressed or encrypted, which Qdrant cannot read from a URL/],
    ["an encrypted object with no stored size", { method: "Upload", files: [{ sourcePeerId: "1", shardIds: [0], key: "a", size: 1, sha256: SHA, encryption: { scheme: "age-v1" } }] }, /plan\.files\[0\]\.stored: is required when the file is compressed or encrypted/],
    ["Static without urls", { qdrant: { url: "http://q:6333", timeoutSeconds: 10, discovery: { mode: "Static", restPort: 6333, scheme: "http" } } }, /plan\.qdrant\.discovery\.urls: must list/],
    ["a presign beyond a week", { presignSeconds: 700_000 }, /plan\.presignSeconds/],
  ];
  for (const [name, over, want] of rows) {
    test(name, () => {
      const problems = restorePlan.problems(plan(over));
      assert.ok(problems.some((p) => want.test(`${p.field}: ${p.message}`)), JSON.stringify(problems));
    });
  }

  test("read: a bad plan is InvalidRestorePlan naming RESTORE_PLAN", () => {
    assert.throws(() => restorePlan.read(undefined), (e: unknown) => isOperatorError(e, "RESTORE_PLAN_INVALID") && /RESTORE_PLAN is not set/.test(e.message));
    assert.throws(() => restorePlan.read(JSON.stringify({ ...plan(), version: 2 })), (e: unknown) => isOperatorError(e, "RESTORE_PLAN_INVALID") && /plan\.version: must be 1 \(got 2\)/.test(e.message));
  });
});

describe("restore results", () => {
  const ok: RestoreJobSuccess = {
    ok: true,
    backupId: BACKUP_ID,
    targetCollection: "docs",
    method: "Pull",
    startTime: "2026-01-15T02:00:00.000Z",
    recoveredTime: "2026-01-15T02:00:05.000Z",
    verifiedTime: "2026-01-15T02:00:06.000Z",
    bytes: 30,
    pointsCount: { expected: 5, actual: 5 },
    created: true,
    peers: Array.from({ length: 60 }, (_, i) => ({ sourcePeerId: `${10_000_000_000_000 + i}`, targetPeerId: `${20_000_000_000_000 + i}`, bytes: 1 })),
  };

  test("a success that does not fit 4 KiB loses its per-peer list, and the reader reads it", () => {
    const text = encodeResult(ok, smallerRestoreResults);
    assert.ok(Buffer.byteLength(text) <= MAX_TERMINATION_MESSAGE_BYTES);
    const parsed = restoreResults.parse(text);
    assert.ok(parsed.kind === "result" && parsed.result.ok);
    assert.equal(parsed.result.peers, undefined);
    assert.deepEqual(parsed.result.pointsCount, { expected: 5, actual: 5 });
  });

  test("the provisional failure: Interrupted, retryable, its claim read back from detail", () => {
    const parsed = restoreResults.parse(encodeResult(provisionalFailure("docs", 3)));
    assert.ok(parsed.kind === "result" && !parsed.result.ok);
    assert.deepEqual([parsed.result.reason, parsed.result.retryable], ["Interrupted", true]);
    assert.match(parsed.result.message, /killed while restoring into collection "docs"/);
    assert.deepEqual(claimOf(parsed.result.detail), { collection: "docs", attempt: 3 });
  });

  test("claimOf: no detail, no claim; a malformed claim is none", () => {
    assert.equal(claimOf(undefined), undefined);
    assert.equal(claimOf({ other: 1 }), undefined);
    assert.equal(claimOf({ claim: { collection: "docs", attempt: 0 } }), undefined);
    assert.equal(claimOf({ claim: "docs" }), undefined);
  });
});

describe("presigned URLs and upload names", () => {
  test("a presigned URL's query string and signature are scrubbed from every message", () => {
    const redactor = new Redactor();
    const url = "http://s3:9000/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20260115&X-Amz-Signature=deadbeefcafe0123";
    registerPresigned({ redactor }, url);
    assert.equal(redactor.scrub(`Failed to download tar from ${url}: 404`), `Failed to download tar from http://s3:9000/b/k?${REDACTED}: 404`);
    assert.equal(redactor.scrub("sig deadbeefcafe0123"), `sig ${REDACTED}`);
  });

  test("the upload's file name is one Qdrant keeps and lists (.snapshot, no path characters)", () => {
    assert.equal(uploadName(BACKUP_ID, "123"), `restore-${BACKUP_ID}-peer-123.snapshot`);
    assert.equal(uploadName("a/b", "static-0"), "restore-a_b-peer-static-0.snapshot");
  });
});
