/**
 * `job restore` onto a distributed Qdrant: a 3-peer backup restored into a fresh 3-peer cluster (new peer
 * ids) puts each source peer's shards back on a peer of its own, by Pull and by Upload; a backup that
 * needs more peers than the target has is refused before anything changes; compressed and encrypted
 * objects (#15) decoded on every peer, a wrong key refused before any, a corrupt one cleaned up; and SIGTERM while the
 * uploads after the first are in flight deletes the collection the first one created.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { AdminClient, type Fault } from "../emulator/admin-client.ts";
import { EXIT_CODES } from "../../src/jobs/protocol/exit-codes.ts";
import type { RestoreJobSuccess } from "../../src/jobs/restore/contract.ts";
import { claimOf, restoreResults } from "../../src/jobs/restore/result.ts";
import { eventually } from "../helpers/testenv.ts";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import { keyFile, newKey } from "../backup/codec-fixtures.ts";
import { allPoints, seedCollection } from "./backup-harness.ts";
import { api, backUp, describeRun, encodeObjects, outcome, restorePlan, runRestore, startRestore, suiteBucket, type Backup } from "./restore-harness.ts";

/** Waits until every one of `faults` holds an upload: the uploads after the first are in flight. */
async function heldUploads(admin: AdminClient, faults: Fault[]): Promise<void> {
  const ids = new Set(faults.map((f) => f.id));
  await eventually("the uploads after the first to be held", async () => ((await admin.faults()).some((f) => ids.has(f.id) && f.remaining > 0) ? undefined : true), 60_000);
}

describe("job restore, 3-peer backup into a fresh 3-peer cluster", () => {
  let source: EmulatorHandle;
  let target: EmulatorHandle;
  let standalone: EmulatorHandle;
  let original: unknown[];
  let backup: Backup;
  let bucket: string;
  let removeBucket: () => Promise<void>;
  before(async () => {
    ({ name: bucket, remove: removeBucket } = await suiteBucket());
    [source, target, standalone] = await Promise.all([startEmulator({ peers: 3 }), startEmulator({ peers: 3 }), startEmulator()]);
    await seedCollection(source.url, "docs", 300, { shardNumber: 3 });
    original = await allPoints(source.url, "docs");
  });
  after(async () => {
    await Promise.all([source.stop(), target.stop(), standalone.stop(), removeBucket()]);
  });

  it("makes the backup (one file per source peer, one shard each)", async () => {
    backup = await backUp(source.url, bucket, "docs");
    assert.deepEqual(backup.manifest.peers.map((p) => p.shardIds?.length), [1, 1, 1]);
  });

  for (const method of ["Pull", "Upload"] as const) {
    it(`${method}: every source peer's shards back on a target peer of its own, identical points`, async (t) => {
      const name = `docs_${method.toLowerCase()}`;
      t.after(() => api(target.url).deleteCollection(name));
      const run = await runRestore(restorePlan(backup, target.url, bucket, { target: name, method }));
      assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
      const ok = run.result as RestoreJobSuccess;
      assert.deepEqual(ok.pointsCount, { expected: 300, actual: 300 });
      assert.equal(ok.peers?.length, 3);
      assert.equal(new Set(ok.peers?.map((p) => p.targetPeerId)).size, 3, "one target peer per source peer");
      assert.deepEqual(await allPoints(target.url, name), original);
      // Each target peer holds the shards its source peer's file carried.
      const targetPeers = await new AdminClient(target.adminUrl).peers();
      for (const p of ok.peers ?? []) {
        const sourceShards = backup.manifest.peers.find((s) => s.peerId === p.sourcePeerId)?.shardIds;
        const peer = targetPeers.find((x) => String(x.id) === p.targetPeerId);
        assert.ok(peer, `target peer ${p.targetPeerId} in ${JSON.stringify(targetPeers)}`);
        const view = await api(peer.url).collectionCluster(name);
        assert.deepEqual(view.localShards.map((s) => s.shardId), sourceShards, `peer ${p.targetPeerId}`);
        assert.ok(view.localShards.every((s) => s.state === "Active"));
      }
    });
  }

  it("zstd+age (#15): every peer's object decoded while it streams; a wrong key refused before any peer is touched; a corrupt object after the first peer created the collection: BackupCorrupt, the collection deleted", async (t) => {
    const key = await newKey();
    const settings = { compression: { algorithm: "zstd" as const, level: 3 }, encryption: { keys: parseAgeKeys(keyFile(key), "test") } };
    const files = await encodeObjects(backup, bucket, settings);
    const name = "docs_encoded";
    t.after(() => api(target.url).deleteCollection(name));
    const run = await runRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload", files }), { ENCRYPTION_KEYS: keyFile(key) });
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.equal((run.result as RestoreJobSuccess).peers?.length, 3);
    assert.deepEqual(await allPoints(target.url, name), original);

    const wrong = await runRestore(restorePlan(backup, target.url, bucket, { target: "docs_encoded_wrong_key", method: "Upload", files }), { ENCRYPTION_KEYS: keyFile(await newKey()) });
    assert.equal(outcome(wrong), "WrongEncryptionKey", describeRun(wrong));
    assert.doesNotMatch(wrong.stdout, /Recovering snapshot/, "no upload started");
    assert.equal(await api(target.url).collectionExists("docs_encoded_wrong_key"), false);

    // Every object but the one recovered first has a flipped byte: the Job recovers the lowest source
    // peer id's file first, alone (map-peers.ts: files sorted by source peer id), and it creates the collection.
    const first = backup.manifest.peers.map((p) => BigInt(p.peerId)).reduce((a, b) => (b < a ? b : a)).toString();
    const flipped = await encodeObjects(backup, bucket, settings, { suffix: ".flipped", mangle: (_i, b, peerId) => void (peerId !== first && (b[b.length - 40] = b[b.length - 40]! ^ 0x01)) });
    const bad = await runRestore(restorePlan(backup, target.url, bucket, { target: "docs_encoded_corrupt", method: "Upload", files: flipped }), { ENCRYPTION_KEYS: keyFile(key) });
    assert.equal(outcome(bad), "BackupCorrupt", describeRun(bad));
    assert.match(bad.stdout, /"msg":"Recovered snapshot"/, "the first peer's upload created the collection");
    assert.equal(await api(target.url).collectionExists("docs_encoded_corrupt"), false, "the half-made collection is deleted");
  });

  it("into a standalone Qdrant: TopologyMismatch naming both counts, nothing created", async () => {
    const run = await runRestore(restorePlan(backup, standalone.url, bucket, { target: "docs" }));
    assert.equal(outcome(run), "TopologyMismatch", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /the backup has 3 peers with data.*the target Qdrant has 1 peer/);
    assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
    assert.deepEqual(await api(standalone.url).listCollections(), []);
  });

  it("SIGTERM while the uploads after the first are in flight: the collection the first created is deleted, Terminated without a claim", async (t) => {
    const name = "docs_sigterm";
    const admin = new AdminClient(target.adminUrl);
    // The first file goes to the lowest target peer id alone; the others' uploads are held.
    const peers = (await admin.peers()).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const faults = await Promise.all(peers.slice(1).map((p) => admin.delayNext({ method: "POST", path: `/collections/${name}/snapshots/upload`, peer: p.number }, 120_000)));
    t.after(async () => {
      for (const f of faults) await admin.removeFault(f.id);
    });
    const job = startRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload" }));
    await eventually("the first upload to create the collection", async () => ((await api(target.url).collectionExists(name)) ? true : undefined), 60_000);
    await heldUploads(admin, faults);
    job.child.kill("SIGTERM");
    const run = await job.wait();
    assert.equal(outcome(run), "Terminated", describeRun(run));
    assert.equal(run.code, EXIT_CODES.RETRYABLE);
    assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
    assert.equal(await api(target.url).collectionExists(name), false);
  });

  it("SIGKILL mid-upload leaves the provisional failure with the claim; the next attempt (ownedTarget) replaces the half-made collection", async (t) => {
    const name = "docs_sigkill";
    t.after(() => api(target.url).deleteCollection(name));
    const admin = new AdminClient(target.adminUrl);
    const peers = (await admin.peers()).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
    const faults = await Promise.all(peers.slice(1).map((p) => admin.delayNext({ method: "POST", path: `/collections/${name}/snapshots/upload`, peer: p.number }, 120_000)));
    t.after(async () => {
      for (const f of faults) await admin.removeFault(f.id);
    });
    const job = startRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload", attempt: 1 }));
    await eventually("the first upload to create the collection", async () => ((await api(target.url).collectionExists(name)) ? true : undefined), 60_000);
    await heldUploads(admin, faults);
    job.child.kill("SIGKILL");
    const killed = await job.wait();
    assert.equal(killed.signal, "SIGKILL");
    // What the kubelet keeps, read as the controller reads it.
    const parsed = restoreResults.parse(killed.resultText);
    assert.ok(parsed.kind === "result" && !parsed.result.ok, killed.resultText);
    assert.equal(parsed.result.reason, "Interrupted");
    assert.equal(parsed.result.retryable, true);
    assert.deepEqual(claimOf(parsed.result.detail), { collection: name, attempt: 1 });
    // Half-made: the collection exists with only the first peer's shard.
    assert.ok((await api(target.url).count(name)) < 300);

    const retry = await runRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload", attempt: 2, ownedTarget: true }));
    assert.equal(retry.code, EXIT_CODES.SUCCESS, describeRun(retry));
    assert.deepEqual(await allPoints(target.url, name), original);
  });

  it("verification waits until every replica is Active on every peer (the recover calls return before)", async (t) => {
    const name = "docs_settle";
    t.after(() => api(target.url).deleteCollection(name));
    const admin = new AdminClient(target.adminUrl);
    // Held open until released: the replicas report ManualRecovery and their points are missing.
    await admin.recoverySettle(600_000, name);
    t.after(() => admin.recoverySettle(0, name));
    const job = startRestore(restorePlan(backup, target.url, bucket, { target: name }));
    await eventually("every peer's file recovered, its replica not yet Active", async () => {
      if (!(await api(target.url).collectionExists(name))) return undefined;
      const views = await Promise.all(target.peers.map((url) => api(url).collectionCluster(name)));
      const states = views.flatMap((v) => v.localShards.map((s) => s.state));
      return states.length === 3 && states.every((s) => s === "ManualRecovery") ? true : undefined;
    });
    assert.equal(job.child.exitCode, null, `still verifying: ${job.resultNow()}`);
    assert.ok((await api(target.url).count(name)) < 300, "a count now is short");
    await admin.recoverySettle(0, name);
    const run = await job.wait();
    assert.equal(run.code, EXIT_CODES.SUCCESS, describeRun(run));
    assert.deepEqual((run.result as RestoreJobSuccess).pointsCount, { expected: 300, actual: 300 });
  });

  it("replicas that do not become Active within verify.timeoutSeconds: VerificationTimeout naming one, the collection deleted", async (t) => {
    const name = "docs_never_active";
    const admin = new AdminClient(target.adminUrl);
    await admin.recoverySettle(600_000, name);
    t.after(() => admin.recoverySettle(0, name));
    const run = await runRestore(restorePlan(backup, target.url, bucket, { target: name, verify: { timeoutSeconds: 3 } }));
    assert.equal(outcome(run), "VerificationTimeout", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /not verified within verify\.timeoutSeconds \(3 s after the last recover returned\): shard \d+ on peer \d+ is ManualRecovery/);
    assert.ok(run.result && !run.result.ok && !("claim" in run.result), run.resultText);
    assert.equal(await api(target.url).collectionExists(name), false);
  });

  it("overwrite in place that fails on one peer after the others recovered: RestorePartial, the collection kept", async (t) => {
    const name = "docs_partial";
    t.after(() => api(target.url).deleteCollection(name));
    const first = await runRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload" }));
    assert.equal(first.code, EXIT_CODES.SUCCESS, describeRun(first));
    const admin = new AdminClient(target.adminUrl);
    const [one] = await admin.peers();
    const fault = await admin.failNext({ method: "POST", path: `/collections/${name}/snapshots/upload`, peer: one!.number }, 500, "Service internal error: No space left on device (os error 28)");
    t.after(() => admin.removeFault(fault.id));
    const run = await runRestore(restorePlan(backup, target.url, bucket, { target: name, method: "Upload", overwrite: true }));
    assert.equal(outcome(run), "RestorePartial", describeRun(run));
    assert.match(run.result && !run.result.ok ? run.result.message : "", /overwriting collection "docs_partial" in place failed after 2 of 3 peers recovered.*No space left on device/);
    assert.equal(await api(target.url).collectionExists(name), true);
  });
});
