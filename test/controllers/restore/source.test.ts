/**
 * The source resolver (src/controllers/restore/source/) picks the backup each source form names, against
 * the environment's MinIO: backupRef through its QdrantBackup, location + backupId from the bucket alone,
 * latest by completion (not creation), schedule and notAfter, a recorded id pinned; manifests are read
 * once; a backup the real backup Job wrote resolves to its files.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { backupId } from "../../../src/backup/layout/backup-id.ts";
import { EXIT_CODES } from "../../../src/jobs/protocol/exit-codes.ts";
import type { ResolvedSource } from "../../../src/controllers/restore/source/resolve-source.ts";
import { qdrantUnderTest, useCollection } from "../../helpers/qdrant.ts";
import { startEmulator } from "../../emulator/index.ts";
import { fullStoragePlan, makePlan, runJob, seedCollection } from "../../jobs/backup-harness.ts";
import { clusterBackup, NS, PREFIX, restoreOf, useWorld, writeBackup } from "./source-fixtures.ts";

function ok(r: ResolvedSource): Extract<ResolvedSource, { ok: true }> {
  if (!r.ok) assert.fail(`expected a resolved source, got ${r.reason}: ${r.message}`);
  return r;
}

describe("each source form picks its backup", () => {
  it("backupRef: the named QdrantBackup's backup, not a newer one of the same collection; its files, points and key", async (t) => {
    const w = await useWorld(t);
    const old = await writeBackup(w, { collection: "policies", created: "2026-01-10T02:00:00Z", completed: "2026-01-10T02:01:00Z", pointsCount: 42, peers: [{ peerId: "11", shardIds: [0, 2] }, { peerId: "12", shardIds: [1] }] });
    await writeBackup(w, { collection: "policies", created: "2026-01-11T02:00:00Z", completed: "2026-01-11T02:01:00Z" });
    await w.addBackup(clusterBackup(old, "nightly-old", { created: "2026-01-10T02:00:00Z", completed: "2026-01-10T02:01:00Z", collections: ["policies"] }));

    const r = ok(await w.resolver.resolve(restoreOf("r", { backupRef: { name: "nightly-old" } })));
    assert.equal(r.candidate.backupId, old.backupId);
    assert.equal(r.manifestKey, old.manifestKey);
    assert.equal(r.mode, "Collection");
    assert.equal(r.sourceCollection, "policies");
    assert.equal(r.expectedPoints, 42);
    assert.equal(r.location.metadata?.name, "s3");
    assert.deepEqual(
      r.files,
      old.manifest.peers.map((p) => ({ sourcePeerId: p.peerId, shardIds: p.shardIds, key: p.file.key, size: p.file.size, sha256: p.file.sha256 })),
    );
  });

  it("location + backupId from the bucket alone (no QdrantBackup, made in another namespace), narrowed or not; a second resolve reads no manifest", async (t) => {
    const w = await useWorld(t);
    const wanted = await writeBackup(w, { namespace: "prod", connection: "main", collection: "docs", created: "2026-02-01T00:00:00Z", completed: "2026-02-01T00:05:00Z" });
    await writeBackup(w, { namespace: "prod", connection: "main", collection: "docs", created: "2026-02-02T00:00:00Z", completed: "2026-02-02T00:05:00Z" });
    await writeBackup(w, { namespace: "prod", connection: "other", collection: "docs", created: "2026-02-03T00:00:00Z", completed: "2026-02-03T00:05:00Z" });

    const sources = [
      { locationRef: { name: "s3" }, backupId: wanted.backupId },
      { locationRef: { name: "s3" }, backupId: wanted.backupId, sourceNamespace: "prod" },
      { locationRef: { name: "s3" }, backupId: wanted.backupId, sourceNamespace: "prod", sourceConnection: "main" },
    ];
    for (const location of sources) {
      const r = ok(await w.resolver.resolve(restoreOf("r", { location })));
      assert.equal(r.candidate.backupId, wanted.backupId, JSON.stringify(location));
      assert.equal(r.candidate.origin, "Bucket");
      assert.equal(r.manifestKey, wanted.manifestKey);
      assert.equal(r.sourceCollection, "docs");
    }
    assert.equal(w.manifests.reads, 1, "the manifest is read once and kept: it never changes");

    const elsewhere = await w.resolver.resolve(restoreOf("r", { location: { locationRef: { name: "s3" }, backupId: wanted.backupId, sourceNamespace: "prod", sourceConnection: "other" } }));
    assert.equal(elsewhere.ok, false);
    assert.equal(!elsewhere.ok && elsewhere.reason, "BackupNotFound");
    assert.match(!elsewhere.ok ? elsewhere.message : "", /^spec\.source\.location: no backup .* \(namespace prod, connection other\)/);
  });

  it("latest: the newest by completion in the restore's namespace; scheduleRef and notAfter narrow it; a recorded id stays pinned", async (t) => {
    const w = await useWorld(t);
    const c = "products";
    // Created first, completed last: a long backup. Newest by creation would be `manual`.
    const long = await writeBackup(w, { collection: c, created: "2026-03-01T00:00:00Z", completed: "2026-03-01T09:00:00Z", scheduleName: "weekly" });
    const manual = await writeBackup(w, { collection: c, created: "2026-03-01T05:00:00Z", completed: "2026-03-01T05:01:00Z" });
    const n1 = await writeBackup(w, { collection: c, created: "2026-02-27T02:00:00Z", completed: "2026-02-27T02:01:00Z", scheduleName: "nightly" });
    const n2 = await writeBackup(w, { collection: c, created: "2026-02-28T02:00:00Z", completed: "2026-02-28T02:01:00Z", scheduleName: "nightly" });
    // Not candidates: another collection, another namespace, both newer.
    await writeBackup(w, { collection: "other", created: "2026-03-02T00:00:00Z", completed: "2026-03-02T00:01:00Z" });
    await writeBackup(w, { namespace: "prod", collection: c, created: "2026-03-02T00:00:00Z", completed: "2026-03-02T00:01:00Z" });

    const latest = (extra: object = {}) => restoreOf("r", { latest: { locationRef: { name: "s3" }, collection: c, ...extra } });
    assert.equal(ok(await w.resolver.resolve(latest())).candidate.backupId, long.backupId, "completion time decides, not the id's creation time");
    assert.equal(ok(await w.resolver.resolve(latest({ scheduleRef: { name: "nightly" } }))).candidate.backupId, n2.backupId);
    assert.equal(ok(await w.resolver.resolve(latest({ scheduleRef: { name: "nightly" }, notAfter: "2026-02-28T00:00:00Z" }))).candidate.backupId, n1.backupId);
    assert.equal(ok(await w.resolver.resolve(latest({ notAfter: "2026-03-01T06:00:00Z" }))).candidate.backupId, manual.backupId);
    const none = await w.resolver.resolve(latest({ notAfter: "2026-01-01T00:00:00Z" }));
    assert.equal(!none.ok && none.reason, "BackupNotUsable");
    assert.match(!none.ok ? none.message : "", /spec\.source\.latest: there is no complete backup of collection products .* \(4 completed after notAfter\)/);
    assert.equal(w.manifests.reads, 4, "each of the collection's manifests read once; the other collection's and namespace's never");

    // The restore recorded n1 (status.backupId): a pinned resolve keeps it though latest now picks another.
    const pinned = ok(await w.resolver.resolve(latest(), undefined, { backupId: n1.backupId }));
    assert.equal(pinned.candidate.backupId, n1.backupId);
    assert.equal(pinned.sourceCollection, c);
  });

  it("latest sees the cluster's QdrantBackups too: one being deleted is not picked though the bucket has it whole, nor a Succeeded one whose manifest the bucket lacks", async (t) => {
    const w = await useWorld(t);
    const older = await writeBackup(w, { collection: "docs", created: "2026-04-01T00:00:00Z", completed: "2026-04-01T00:01:00Z" });
    const newer = await writeBackup(w, { collection: "docs", created: "2026-04-02T00:00:00Z", completed: "2026-04-02T00:01:00Z" });
    const deleting = clusterBackup(newer, "newer", { created: "2026-04-02T00:00:00Z", completed: "2026-04-02T00:01:00Z", collections: ["docs"] });
    deleting.metadata = { ...deleting.metadata, deletionTimestamp: "2026-04-03T00:00:00Z", finalizers: ["qdrant-operator.dev/data"] };
    await w.addBackup(deleting);
    const latest = restoreOf("r", { latest: { locationRef: { name: "s3" }, collection: "docs" } });
    assert.equal(ok(await w.resolver.resolve(latest)).candidate.backupId, older.backupId);

    // Succeeded, newest, but its objects are gone from the bucket (a lifecycle rule, a hand): the bucket decides.
    const vanished = "2c9a7f33-7f7e-4c43-9b7e-1d2f3a4b5c6d";
    await w.addBackup(clusterBackup({ ...newer, uid: vanished }, "vanished", { created: "2026-04-05T00:00:00Z", completed: "2026-04-05T00:01:00Z", collections: ["docs"] }));
    assert.equal(ok(await w.resolver.resolve(latest)).candidate.backupId, older.backupId);
    const pinned = await w.resolver.resolve(latest, undefined, { backupId: backupId(new Date("2026-04-05T00:00:00Z"), vanished) });
    assert.equal(!pinned.ok && pinned.reason, "BackupNotUsable", "pinned to a backup the bucket lacks: said, not picked");
    assert.match(!pinned.ok ? pinned.message : "", /QdrantBackup dr\/vanished\) is incomplete: its objects have no manifest/);
  });

  it("a backup the backup Job wrote (the environment's Qdrant) resolves from the bucket alone to the manifest's files", async (t) => {
    const q = qdrantUnderTest();
    const w = await useWorld(t);
    const collection = await useCollection(t, "src", { points: 30 });
    const plan = makePlan(q.url, w.bucket, { collections: { names: [collection] }, discovery: { mode: "None" }, prefix: PREFIX });
    const run = await runJob(plan, q.apiKey ? { apiKey: q.apiKey } : {});
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);

    const r = ok(await w.resolver.resolve(restoreOf("r", { location: { locationRef: { name: "s3" }, backupId: plan.backupId } })));
    assert.equal(r.sourceCollection, collection);
    assert.equal(r.expectedPoints, 30);
    assert.equal(r.candidate.namespace, plan.source.namespace);
    assert.equal(r.candidate.connection, plan.source.connection);
    assert.equal(r.files.length, 1);
    assert.deepEqual(r.files[0], {
      sourcePeerId: r.manifest.peers[0]!.peerId,
      shardIds: r.manifest.peers[0]!.shardIds,
      key: r.manifest.peers[0]!.file.key,
      size: r.manifest.peers[0]!.file.size,
      sha256: r.manifest.peers[0]!.file.sha256,
    });
    assert.ok(r.manifest.peers[0]!.file.size > 0);
    assert.notEqual(r.candidate.namespace, NS, "restored from a namespace the backup was not made in");
  });

  it("a FullStorage backup the backup Job wrote (an emulator of its own) gives one collection's shards and count", async (t) => {
    const emu = await startEmulator();
    t.after(() => emu.stop());
    await seedCollection(emu.url, "docs", 40);
    await seedCollection(emu.url, "other", 5);
    const w = await useWorld(t);
    const base = fullStoragePlan(emu.url, w.bucket);
    const plan = { ...base, s3: { ...base.s3, prefix: PREFIX } };
    const run = await runJob(plan);
    assert.equal(run.code, EXIT_CODES.SUCCESS, run.stdout + run.stderr);

    const source = { location: { locationRef: { name: "s3" }, backupId: plan.backupId, sourceNamespace: plan.source.namespace, sourceConnection: plan.source.connection } };
    const several = await w.resolver.resolve(restoreOf("r", source));
    assert.equal(!several.ok && several.reason, "SourceCollectionRequired");
    const r = ok(await w.resolver.resolve(restoreOf("r", source, "docs")));
    assert.equal(r.mode, "FullStorage");
    assert.equal(r.sourceCollection, "docs");
    assert.equal(r.expectedPoints, 40);
    assert.match(r.manifestKey, new RegExp(`/_storage/${plan.backupId}/manifest\\.json$`));
    assert.deepEqual(r.files.map((f) => [f.key, f.shardIds]), r.manifest.peers.map((p) => [p.file.key, p.collections?.find((c) => c.name === "docs")?.shardIds]));
  });
});
