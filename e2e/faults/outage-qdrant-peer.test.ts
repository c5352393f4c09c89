/**
 * One Qdrant peer goes down in the middle of a cluster backup and of a cluster restore, and comes back.
 * The cluster is a 3-peer emulator of the test's own (the environment's serves every test file at once:
 * taking one of its peers down would break theirs), with a collection of one shard per peer. A delay
 * fault scoped to peer 2 holds the Job's call there while the calls to peers 1 and 3 complete; the test
 * then takes peer 2 down (its held request is cut, and the emulator does nothing more with it, as a
 * killed Qdrant would not).
 *
 * - The backup: peers 1 and 3 made their snapshots, peer 2 did not answer. Each attempt fails
 *   QdrantUnreachable naming peer 2's URL and deletes the snapshots it made on the other peers; the Job
 *   controller's backoff runs the second attempt, which fails the same while the peer is down; the backup
 *   ends Failed saying so and how often it was tried, with a Warning Event. Peer 2's create lost its
 *   answer, so only peer 2 can say whether it made a snapshot: the sweep keeps that create's intent and
 *   says CleanedUp False naming peer 2, retrying, until the peer is back; then nothing is left on any
 *   peer's disk or in the bucket, and a new backup succeeds with a file per peer.
 * - The restore (from a backup made while all were up): the attempt fails naming peer 2; in the backoff
 *   the restore's Ready condition says which attempt failed, why, and when the next starts, with a
 *   Warning Event; once the peer is back the next attempt restores every point, every replica Active,
 *   and no snapshot file is left on any peer.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test, type TestContext } from "node:test";
import { ListMultipartUploadsCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { API_VERSION } from "../../src/api/group.ts";
import { AdminClient } from "../../test/emulator/admin-client.ts";
import { startEmulator, type EmulatorHandle } from "../../test/emulator/index.ts";
import { ensureCrds } from "../../test/helpers/crds.ts";
import { startManager, type ManagerProcess } from "../../test/helpers/manager.ts";
import { needsEmulatorFaults } from "../../test/helpers/qdrant.ts";
import { bucketOnlyUser, s3Client, useBucket } from "../../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../../test/helpers/testenv.ts";
import { seedCollection } from "../../test/jobs/backup-harness.ts";
import { allPoints, apply, backupObj, condition, getBackup, secret, waitForPhase } from "../helpers/backup-world.ts";
import { collectionCluster, eventsOf, restoreObj, waitForRestore, waitForRestorePhase } from "../helpers/restore-world.ts";
import { assertInvariants, type InvariantScope } from "./invariants.ts";

const COLLECTION = "policies";
const POINTS = 60;

interface ClusterWorld {
  ns: string;
  bucket: string;
  apiKey: string;
  cluster: EmulatorHandle;
  admin: AdminClient;
  manager: ManagerProcess;
}

/**
 * A namespace, a 3-peer emulator of its own (API key required) with "policies" (3 shards, 60 points), a
 * bucket with a one-bucket user, connection "qdrant" listing the peers, location "s3" and the manager.
 */
async function clusterWorld(t: TestContext, prefix: string): Promise<ClusterWorld> {
  needsEmulatorFaults(t, "takes a peer of a 3-peer emulator of its own down and up");
  await ensureCrds();
  const apiKey = `qk-${randomBytes(12).toString("hex")}`;
  const cluster = await startEmulator({ peers: 3, apiKey });
  const admin = new AdminClient(cluster.adminUrl);
  // After hooks run in the order they were added: the peer is up again (a failed test may have left it
  // down) before the cluster stops.
  t.after(() => admin.peerUp(2));
  t.after(() => cluster.stop());
  await seedCollection(cluster.peers[0]!, COLLECTION, POINTS, { shardNumber: 3, apiKey });
  const ns = await useNamespace(t, prefix);
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  const manager = await startManager(t, [ns]);
  await apply(ns, [
    secret("qdrant-key", { "api-key": apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: cluster.peers[0], apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "Static", urls: cluster.peers } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: "qdrant/peer-outage", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
  ]);
  return { ns, bucket, apiKey, cluster, admin, manager };
}

/** The shared invariants' scope: the world's bucket and every peer of its own cluster (full storage too). */
const scope = (w: ClusterWorld, collections: string[]): InvariantScope => ({
  ns: w.ns,
  bucket: { bucket: w.bucket, prefix: "qdrant/peer-outage" },
  qdrant: { urls: w.cluster.peers, apiKey: w.apiKey, collections, fullStorage: true },
});

/** Snapshot and temp files on every peer's disk (the emulator is the test's own: all of it is ours). */
async function filesOnPeers(w: ClusterWorld): Promise<string[]> {
  const out: string[] = [];
  for (const n of [1, 2, 3]) {
    const f = await w.admin.files(n);
    out.push(...f.snapshots.map((x) => `peer ${n} snapshots/${x.path}`), ...f.tmp.map((x) => `peer ${n} tmp/${x.path}`));
  }
  return out;
}

/** Holds the next call matching `path` on peer 2; once it is held, takes peer 2 down. */
async function downWhileHeld(w: ClusterWorld, route: { method: string; path: string }): Promise<void> {
  const hold = await w.admin.delayNext({ ...route, peer: 2 }, 30_000, 1);
  await eventually(`the Job's ${route.method} ${route.path} held on peer 2`, async () => ((await w.admin.faults()).find((f) => f.id === hold.id) === undefined ? true : undefined), 180_000);
  await w.admin.peerDown(2);
}

test("peer 2 down mid-backup: each attempt fails naming the peer and deletes the other peers' snapshots; Failed with an Event; the sweep waits for the peer to look for its snapshot; after the peer is back a new backup succeeds", async (t) => {
  const w = await clusterWorld(t, "e2e-out-peer-backup");
  await apply(w.ns, [backupObj("peer-down", { job: { backoffLimit: 1 } })]);
  await downWhileHeld(w, { method: "POST", path: `/collections/${COLLECTION}/snapshots` });

  const failed = await waitForPhase(w.ns, "peer-down", "Failed", 180_000);
  assert.equal(failed.status?.failure?.reason, "QdrantUnreachable");
  const message = failed.status.failure.message;
  assert.ok(message.includes(w.cluster.peers[1]!), `the message names peer 2 (${w.cluster.peers[1]}): ${message}`);
  assert.match(message, /tried 2 times; spec\.job\.backoffLimit 1 bounds the retries/, "retried once after the Job controller's backoff");
  assert.equal(condition(failed, "Ready")?.message, message);
  await eventually("the Failed Event naming the peer", async () => ((await eventsOf(w.ns, "peer-down")).some((e) => e.startsWith("Failed: QdrantUnreachable: ") && e.includes(w.cluster.peers[1]!)) ? true : undefined), 30_000);
  // Peer 2's create lost its answer, so its intent stays (src/backup/store/resolve-intent.ts): whether that
  // create made a snapshot can be asked only of peer 2. The sweep says so, naming it, and retries.
  const waiting = await eventually("the sweep waiting for peer 2", async () => {
    const c = condition(await getBackup(w.ns, "peer-down"), "CleanedUp");
    return c?.status === "False" && c.reason === "CleanupFailed" && c.message.includes(w.cluster.peers[1]!) ? c : undefined;
  }, 120_000);
  assert.match(waiting.message, /retrying$/, waiting.message);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: w.bucket }))).Contents ?? []).map((o) => o.Key ?? "");
  assert.ok((await keys()).some((k) => k.includes("/_pending/") && k.includes("/_intent/")), `peer 2's intent is kept: ${(await keys()).join(", ")}`);

  await w.admin.peerUp(2);
  await eventually("the sweep", async () => (condition(await getBackup(w.ns, "peer-down"), "CleanedUp")?.status === "True" ? true : undefined), 300_000);
  assert.deepEqual(await filesOnPeers(w), [], "the snapshots peers 1 and 3 made are deleted, peer 2 made none");
  assert.deepEqual(await keys(), [], "no manifest, marker, intent or object");
  assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: w.bucket }))).Uploads ?? [], []);

  await apply(w.ns, [backupObj("peer-back", {})]);
  const done = await waitForPhase(w.ns, "peer-back", "Succeeded", 180_000);
  assert.equal(done.status?.collections?.[0]?.pointsCount, POINTS);
  assert.equal(done.status.collections[0].files?.length, 3, "a file per peer");
  assert.deepEqual(await filesOnPeers(w), [], "no snapshot left on any peer");
  await assertInvariants(scope(w, [COLLECTION]));
});

test("peer 2 down mid-restore: the attempt fails naming the peer, the backoff is reported in Ready and an Event; after the peer is back the next attempt restores every point", async (t) => {
  const w = await clusterWorld(t, "e2e-out-peer-restore");
  await apply(w.ns, [backupObj("b", {})]);
  await waitForPhase(w.ns, "b", "Succeeded", 180_000);
  const target = `${COLLECTION}_restored`;

  await apply(w.ns, [restoreObj("peer-down", { backupRef: { name: "b" } }, { target: { collection: target } })]);
  // Peer 2's recover of its file (the first file's call creates the collection, the others follow).
  await downWhileHeld(w, { method: "PUT", path: `/collections/${target}/**` });

  const backoff = await waitForRestore(w.ns, "peer-down", "Ready False for a failed attempt, the next one scheduled", (r) => {
    const ready = condition(r, "Ready");
    return ready?.status === "False" && /^attempt 1 of \d+ failed: .*; attempt 2 starts at /.test(ready.message);
  }, 180_000);
  const ready = condition(backoff, "Ready")!;
  assert.equal(ready.reason, "QdrantUnreachable", ready.message);
  assert.ok(ready.message.includes(w.cluster.peers[1]!), `Ready names peer 2 (${w.cluster.peers[1]}): ${ready.message}`);
  assert.equal(backoff.status?.phase, "Running", "a retryable failure is retried, not final");
  await eventually("the Warning Event for the failed attempt", async () => ((await eventsOf(w.ns, "peer-down")).some((e) => e.startsWith("QdrantUnreachable: attempt 1 of")) ? true : undefined), 30_000);
  await w.admin.peerUp(2);

  const done = await waitForRestorePhase(w.ns, "peer-down", "Succeeded", 240_000);
  assert.ok((done.status?.attempt ?? 0) >= 2, `a later attempt restored it: ${JSON.stringify(done.status)}`);
  assert.deepEqual(done.status?.pointsCount, { expected: POINTS, actual: POINTS });
  assert.deepEqual(await allPoints(w.cluster.peers[0]!, target, w.apiKey), await allPoints(w.cluster.peers[0]!, COLLECTION, w.apiKey), "every point restored");
  for (const url of w.cluster.peers) {
    const info = await collectionCluster(url, target, w.apiKey);
    for (const s of info.local_shards) assert.equal(s.state, "Active", `${url} shard ${s.shard_id}`);
    for (const s of info.remote_shards) assert.equal(s.state, "Active", `${url} sees shard ${s.shard_id} on ${s.peer_id}`);
  }
  assert.deepEqual(await filesOnPeers(w), [], "no snapshot or partial download left on any peer");
  await assertInvariants(scope(w, [COLLECTION, target]));
});
