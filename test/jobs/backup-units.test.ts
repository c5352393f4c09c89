/** The backup Job's pure parts: collection selection, plan checks, the result's encoding and scrubbing. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isOperatorError, OperatorError } from "../../src/errors.ts";
import type { BackupJobResult, BackupJobSuccess } from "../../src/jobs/backup/contract.ts";
import { parsePlan } from "../../src/jobs/backup/plan.ts";
import { smallerBackupResults } from "../../src/jobs/backup/result.ts";
import { exitCodeFor } from "../../src/jobs/protocol/exit-codes.ts";
import { failureResult } from "../../src/jobs/protocol/failure.ts";
import { encodeResult as encode, MAX_TERMINATION_MESSAGE_BYTES as MAX_RESULT_BYTES } from "../../src/jobs/protocol/termination-message.ts";
import { Redactor } from "../../src/runtime/redact.ts";
import { selectCollections } from "../../src/jobs/backup/run-backup.ts";

const existing = ["docs", "docs_v2", "images", "logs-2026"];
const aliases = [{ alias: "live", collection: "docs_v2" }];

function rejects(fn: () => unknown, reason: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => isOperatorError(err) && err.reason === reason && message.test(err.message));
}

const encodeResult = (r: BackupJobResult): string => encode<BackupJobSuccess>(r, smallerBackupResults);

describe("selectCollections", () => {
  it("takes names as given, refusing a missing one and naming an alias's collection", () => {
    assert.deepEqual(selectCollections({ names: ["images", "docs", "docs"] }, existing, aliases), ["images", "docs"]);
    rejects(() => selectCollections({ names: ["docs", "gone"] }, existing, aliases), "CollectionNotFound", /^collection "gone" does not exist$/);
    rejects(() => selectCollections({ names: ["live"] }, existing, aliases), "CollectionNotFound", /"live" is an alias of collection "docs_v2"/);
  });

  it("anchors patterns, sorts, and refuses a selection of nothing", () => {
    assert.deepEqual(selectCollections({ pattern: "docs.*" }, existing, aliases), ["docs", "docs_v2"]);
    assert.deepEqual(selectCollections({ pattern: "logs-.*|images" }, existing, aliases), ["images", "logs-2026"]);
    rejects(() => selectCollections({ pattern: "doc" }, existing, aliases), "CollectionNotFound", /no collection matches the pattern "doc"/);
    assert.deepEqual(selectCollections({ all: true }, ["b", "a"], []), ["a", "b"]);
    rejects(() => selectCollections({ all: true }, [], []), "CollectionNotFound", /no collection/);
  });
});

describe("parsePlan", () => {
  const good = {
    version: 1,
    backupId: "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d",
    mode: "Collection",
    collections: { names: ["docs"] },
    qdrant: { url: "http://qdrant.ns.svc:6333", timeoutSeconds: 30, discovery: { mode: "Cluster", restPort: 6333, scheme: "http" } },
    s3: { bucket: "backups", region: "us-east-1", forcePathStyle: false },
    source: { namespace: "ns", connection: "main", backupName: "b", backupUid: "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d" },
    operatorVersion: "0.1.0",
  };

  it("accepts a good plan", () => {
    assert.deepEqual(parsePlan(JSON.stringify(good)), good);
  });

  it("names every problem of a bad one, as a permanent error", () => {
    const bad = { ...good, version: 2, collections: { pattern: "(" }, qdrant: { ...good.qdrant, url: "qdrant:6333" }, source: { ...good.source, namespace: "Not_A_Namespace" } };
    assert.throws(
      () => parsePlan(JSON.stringify(bad)),
      (err: unknown) =>
        err instanceof OperatorError &&
        !err.retryable &&
        err.reason === "InvalidBackupPlan" &&
        /plan\.version: must be 1 \(got 2\): the Job's image and the manager disagree/.test(err.message) &&
        /plan\.collections\.pattern: is not a regular expression/.test(err.message) &&
        /plan\.qdrant\.url: must match pattern/.test(err.message) &&
        /plan\.source: "Not_A_Namespace" is not a valid namespace name/.test(err.message),
    );
    rejects(() => parsePlan(undefined), "InvalidBackupPlan", /BACKUP_PLAN is not set/);
    rejects(() => parsePlan(JSON.stringify({ ...good, collections: undefined })), "InvalidBackupPlan", /plan\.collections: is required in mode Collection/);
  });
});

describe("the result", () => {
  it("keeps the failing side's words with secrets scrubbed, and maps retryability to the exit code", () => {
    const err = new OperatorError("QDRANT_API_ERROR", "POST http://q:6333/collections/c/snapshots: 500 No space left on device (key s3cr3t-key)");
    const redactor = new Redactor();
    redactor.register("s3cr3t-key");
    redactor.register(undefined);
    const r = failureResult(err, redactor);
    assert.deepEqual(r, { ok: false, reason: "QdrantError", message: "POST http://q:6333/collections/c/snapshots: 500 No space left on device (key [REDACTED])", retryable: true });
    assert.equal(exitCodeFor(r), 1);
    assert.equal(exitCodeFor(failureResult(new OperatorError("COLLECTION_NOT_FOUND", "collection \"x\" does not exist"), new Redactor())), 2);
    const succeeded: BackupJobResult = { ok: true, backupId: "x", startTime: "", completionTime: "", sizeBytes: 0 };
    assert.equal(exitCodeFor(succeeded), 0);
    assert.equal(failureResult(new TypeError("boom"), new Redactor()).reason, "InternalError");
    const url = new Redactor();
    url.register("pass/word");
    assert.equal(url.scrub("a=pass%2Fword and pass/word"), "a=[REDACTED] and [REDACTED]");
  });

  it("fits the termination message: files dropped first, then collections from the end", () => {
    const collection = (i: number) => ({
      name: `collection-${i}`,
      manifestKey: `qdrant/ns/main/_collections/collection-${i}/20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d/manifest.json`,
      pointsCount: 1,
      sizeBytes: 1,
      files: [0, 1, 2].map((p) => ({ peerId: String(p), key: `k${p}`.repeat(40), size: 1, sha256: "a".repeat(64) })),
    });
    const small: BackupJobResult = { ok: true, backupId: "id", startTime: "s", completionTime: "c", sizeBytes: 1, collections: [collection(1)] };
    assert.deepEqual(JSON.parse(encodeResult(small)), small);
    const medium: BackupJobResult = { ...small, collections: [1, 2, 3, 4, 5, 6, 7, 8].map(collection) };
    const m = JSON.parse(encodeResult(medium)) as { collections: Array<{ files?: unknown }> };
    assert.ok(Buffer.byteLength(JSON.stringify(medium)) > MAX_RESULT_BYTES);
    assert.equal(m.collections.length, 8);
    assert.ok(m.collections.every((c) => c.files === undefined));
    const large: BackupJobResult = { ...small, collections: Array.from({ length: 100 }, (_, i) => collection(i)) };
    const text = encodeResult(large);
    assert.ok(Buffer.byteLength(text) <= MAX_RESULT_BYTES);
    assert.ok((JSON.parse(text) as { collections: unknown[] }).collections.length > 10);
  });

  it("fits a FullStorage result: files dropped first, then the storage's collections from the end", () => {
    const files = [0, 1, 2].map((p) => ({ peerId: String(p), key: `k${p}`.repeat(200), size: 1, sha256: "a".repeat(64) }));
    const storage = (n: number) => ({ collections: Array.from({ length: n }, (_, i) => ({ name: `collection-${i}`, pointsCount: i, aliases: [`alias-${i}`] })) });
    const small: BackupJobResult = { ok: true, backupId: "id", startTime: "s", completionTime: "c", sizeBytes: 3, manifestKey: "m", files, storage: storage(2) };
    assert.deepEqual(JSON.parse(encodeResult(small)), small);
    const medium = { ...small, storage: storage(40) };
    assert.ok(Buffer.byteLength(JSON.stringify(medium)) > MAX_RESULT_BYTES);
    const { files: _files, ...withoutFiles } = medium;
    assert.deepEqual(JSON.parse(encodeResult(medium)), withoutFiles);
    const text = encodeResult({ ...small, storage: storage(500) });
    assert.ok(Buffer.byteLength(text) <= MAX_RESULT_BYTES);
    const parsed = JSON.parse(text) as { manifestKey: string; storage: { collections: unknown[] } };
    assert.equal(parsed.manifestKey, "m");
    assert.ok(parsed.storage.collections.length > 10 && parsed.storage.collections.length < 500);
  });
});
