/**
 * The plan's `exclude`: a backup of `all` or a pattern leaves out the collections the operator is
 * building and says so in every manifest and in the result; explicit names are backed up whatever it
 * says. leaveOut as a table; the Job as a child process against an emulator and the shared MinIO.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { manifestKey } from "../../src/backup/layout/object-keys.ts";
import type { BackupJobPlan } from "../../src/jobs/backup/contract.ts";
import { leaveOut } from "../../src/jobs/backup/run-backup.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import { isOperatorError } from "../../src/errors.ts";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { listKeys, makePlan, objectBytes, runJob, seedCollection } from "./backup-harness.ts";

const DRILL = { name: "docs_drill", reason: "the temporary collection of restore drill QdrantRestore team-a/drill" };
const GREEN = { name: "docs_v2", reason: "the green collection of CollectionRollout team-a/v2, not promoted yet" };

describe("leaveOut", () => {
  it("leaves out of all and patterns what exclude names and the selector selected; never explicit names", () => {
    const selected = ["docs", "docs_drill", "docs_v2"];
    assert.deepEqual(leaveOut({ all: true }, selected, [DRILL, GREEN, { name: "gone", reason: "r" }]), { collections: ["docs"], excluded: [DRILL, GREEN] });
    assert.deepEqual(leaveOut({ pattern: "docs.*" }, selected, [GREEN]), { collections: ["docs", "docs_drill"], excluded: [GREEN] });
    assert.deepEqual(leaveOut({ names: selected }, selected, [DRILL, GREEN]), { collections: selected, excluded: [] });
    assert.deepEqual(leaveOut({ all: true }, selected), { collections: selected, excluded: [] });
    assert.throws(
      () => leaveOut({ pattern: "docs_.*" }, ["docs_drill", "docs_v2"], [DRILL, GREEN]),
      (err) => isOperatorError(err, "COLLECTION_NOT_FOUND") && /collections\.pattern "docs_\.\*": every collection it selects is one the operator is building \(docs_drill: the temporary/.test(err.message),
    );
  });
});

describe("job backup with exclude", () => {
  let emu: EmulatorHandle;
  before(async () => {
    emu = await startEmulator();
    for (const name of ["docs", "docs_drill", "docs_v2"]) await seedCollection(emu.url, name, 3);
  });
  after(() => emu.stop());
  const parts = (plan: BackupJobPlan, collection: string) => ({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });

  it("all: the collections being built are not snapshotted; every manifest and the result name them with reasons", async (t) => {
    const bucket = await useBucket(t);
    const plan: BackupJobPlan = { ...makePlan(emu.url, bucket, { collections: { all: true } }), exclude: [GREEN, DRILL] };
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
    assert.ok(run.result?.ok);
    assert.deepEqual(run.result.collections?.map((c) => c.name), ["docs"]);
    assert.deepEqual(run.result.excluded, [DRILL, GREEN]);
    const keys = await listKeys(s3Client(), bucket);
    assert.ok(!keys.some((k) => k.includes("/docs_drill/") || k.includes("/docs_v2/")), `nothing of the excluded collections in the bucket: ${keys.join(", ")}`);
    const key = manifestKey(parts(plan, "docs"));
    const manifest = parseManifest(await objectBytes(s3Client(), bucket, key), { key });
    assert.ok(manifest.ok, manifest.ok ? "" : manifest.error);
    assert.deepEqual(manifest.manifest.excluded, [DRILL, GREEN]);
  });

  it("explicit names are backed up, whatever exclude says, and their manifests exclude nothing", async (t) => {
    const bucket = await useBucket(t);
    const plan: BackupJobPlan = { ...makePlan(emu.url, bucket, { collections: { names: ["docs_v2"] } }), exclude: [GREEN] };
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);
    assert.ok(run.result?.ok);
    assert.deepEqual(run.result.collections?.map((c) => c.name), ["docs_v2"]);
    assert.equal(run.result.excluded, undefined);
    const key = manifestKey(parts(plan, "docs_v2"));
    const manifest = parseManifest(await objectBytes(s3Client(), bucket, key), { key });
    assert.ok(manifest.ok && manifest.manifest.excluded === undefined);
  });
});
