/**
 * The sweep after a failed backup, against what a real killed run leaves: the `job backup` process is
 * SIGKILLed mid-upload of its second collection (first collection complete), then the sweep runs as the
 * manager would once the Job has failed for good. On the environment's Qdrant (the emulator, or
 * QDRANT_URL's), on collections of the test's own.
 */
import { describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { eventually } from "../../helpers/eventually.ts";
import { qdrantApi, qdrantUnderTest, uniqueName, useCollection } from "../../helpers/qdrant.ts";
import { s3Client, useBucket } from "../../helpers/s3.ts";
import { holdingProxy, listKeys, makePlan, multipartUploads, qdrant, seedCollection, startJobMidUpload } from "../../jobs/backup-harness.ts";
import { manifestKey, snapshotKey } from "../../../src/backup/layout/object-keys.ts";
import { sweepFailedBackup } from "../../../src/controllers/backup/sweep.ts";
import { writeIntent, writeMarker } from "../../../src/backup/store/pending-markers.ts";
import { backupPrefix } from "../../../src/backup/layout/object-keys.ts";
import { discoverTopology } from "../../../src/qdrant/peers.ts";

/** The peers a connection with discovery None lists (the one Qdrant at `url`), as the manager's sweep finds them. */
const standalone = (url?: string) => discoverTopology(qdrantApi(url), { mode: "None", restPort: 6333, scheme: "http" }).then((t) => t.peers);

const MIB = 1024 * 1024;

/** The names of the snapshots Qdrant lists for `collection`. */
async function snapshotsOf(collection: string): Promise<string[]> {
  const q = qdrantUnderTest();
  return (await qdrant<Array<{ name: string }>>(q.url, "GET", `/collections/${collection}/snapshots`, undefined, q.apiKey)).map((s) => s.name).sort();
}

describe("sweepFailedBackup", () => {
  const q = qdrantUnderTest();

  it("deletes the killed run's snapshot, upload and incomplete objects; keeps a complete collection and a person's snapshot", async (t) => {
    const small = await useCollection(t, "a_small", { points: 3 });
    const docs = uniqueName("docs");
    t.after(() => qdrantApi().deleteCollection(docs).then(() => undefined));
    await seedCollection(q.url, docs, 48, { payloadBytes: 512 * 1024, ...(q.apiKey ? { apiKey: q.apiKey } : {}) });
    const bucket = await useBucket(t);
    const s3 = s3Client();
    // Held only on the big collection's download: the small one (first) completes, docs is mid-upload.
    const proxy = await holdingProxy(q.url, 12 * MIB);
    t.after(() => proxy.close());
    const person = await qdrant<{ name: string }>(q.url, "POST", `/collections/${docs}/snapshots?wait=true`, undefined, q.apiKey);
    // Qdrant names snapshots to the second: one made in the same second would be the same file.
    const second = Math.floor(Date.now() / 1000);
    await eventually("the next second", () => Promise.resolve(Math.floor(Date.now() / 1000) > second ? true : undefined));
    const plan = makePlan(proxy.url, bucket, { collections: { names: [small, docs] }, discovery: { mode: "None" } });
    const peerId = await qdrantApi().peerId();
    const parts = (collection: string) => ({ namespace: plan.source.namespace, connection: plan.source.connection, collection, backupId: plan.backupId });
    const docsKey = snapshotKey(parts(docs), peerId);

    const job = await startJobMidUpload(plan, proxy, s3, bucket, docsKey, q.apiKey ? { apiKey: q.apiKey } : {});
    job.child.kill("SIGKILL");
    await job.wait();
    proxy.release();

    const before = await listKeys(s3, bucket);
    assert.ok(before.includes(manifestKey(parts(small))), `the small collection completed: ${before.join(", ")}`);
    assert.ok(before.some((k) => k.includes(`/${docs}/`) && k.includes("/_pending/")), "docs has a pending marker");
    const listed = await snapshotsOf(docs);
    assert.equal(listed.length, 2, `the person's and the killed run's snapshots: ${listed.join(", ")}`);

    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    // The connection the Job used is the proxy's address: that is the peer the sweep finds and follows.
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone(proxy.url));
    assert.deepEqual(swept, { snapshots: 1, markers: 1, abortedUploads: 1, incompleteObjects: 0 });

    assert.deepEqual(await multipartUploads(s3, bucket, docsKey), [], "no multipart upload");
    assert.deepEqual(await listKeys(s3, bucket), [manifestKey(parts(small)), snapshotKey(parts(small), peerId)].sort(), "the complete collection stays, nothing of docs");
    assert.deepEqual(await snapshotsOf(docs), [person.name], "only the person's snapshot is left on the peer");
    assert.deepEqual(await snapshotsOf(small), [], "the completed collection's own snapshot was deleted by the run");

    // Again: nothing left to do.
    assert.deepEqual(await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone()), { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 });
  });

  /** A bucket holding one snapshot object of a backup that has no manifest. */
  async function incompleteBackup(t: TestContext) {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const plan = makePlan(q.url, bucket);
    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    const key = snapshotKey({ ...ref, collection: "docs" }, "1");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: "half a snapshot" }));
    return { bucket, s3, ref, key };
  }

  it("deletes the objects of a directory without a manifest", async (t) => {
    const { bucket, s3, ref } = await incompleteBackup(t);
    const other = snapshotKey({ ...ref, backupId: makePlan(q.url, bucket).backupId, collection: "docs" }, "1");
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: other, Body: "another backup's" }));
    assert.deepEqual(await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone()), { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 1 });
    assert.deepEqual(await listKeys(s3, bucket), [other], "another backup's objects are not touched");
  });

  it("stops, deleting nothing, once the reconcile's signal is aborted (a manager that lost its lease)", async (t) => {
    const { bucket, s3, ref, key } = await incompleteBackup(t);
    const lost = new AbortController();
    lost.abort(new Error("lost the lease"));
    await assert.rejects(sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone(), { signal: lost.signal }), (err) => err === lost.signal.reason);
    assert.deepEqual(await listKeys(s3, bucket), [key], "the incomplete backup is still there for the new leader's sweep");
  });

  it("follows no marker to a peer the connection does not list: the bucket cannot send the API key elsewhere", async (t) => {
    const { bucket, s3, ref } = await incompleteBackup(t);
    const collection = await useCollection(t, "a_marked", { points: 1 });
    const made = await qdrant<{ name: string }>(q.url, "POST", `/collections/${collection}/snapshots?wait=true`, undefined, q.apiKey);
    t.after(() => qdrantApi().deleteSnapshot({ collection }, made.name).then(() => undefined));
    // A marker someone wrote into the bucket: a real snapshot's name, a peer id and URL the connection lacks.
    const dir = backupPrefix({ ...ref, collection });
    await writeMarker(s3, bucket, dir, { peerId: "999", peerUrl: "http://127.0.0.9:1", collection, snapshot: made.name });
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone());
    assert.equal(swept.unknownPeerSnapshots, 1, "counted as left");
    assert.equal(swept.snapshots, 0);
    assert.equal(swept.markers, 1, "the marker is dropped");
    assert.ok((await snapshotsOf(collection)).includes(made.name), "nothing was deleted anywhere");
  });

  /** The intent a run killed during its create of `collection` left (no marker), in a bucket of its own. */
  async function intentOf(t: TestContext, collection: string, notBefore: Date) {
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const plan = makePlan(q.url, bucket);
    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    await writeIntent(s3, bucket, backupPrefix({ ...ref, collection }), { peerId: await qdrantApi().peerId(), peerUrl: q.url, collection, notBefore: notBefore.toISOString() });
    return { bucket, s3, ref };
  }

  /** A collection of the test's own, and a snapshot maker whose snapshots are deleted after the test. */
  async function collectionWithSnapshots(t: TestContext, name: string) {
    // Registered first: the hooks run in order, and the collection's deletion leaves its snapshots unreachable.
    let collection = "";
    t.after(async () => {
      for (const n of await snapshotsOf(collection)) await qdrantApi().deleteSnapshot({ collection }, n);
    });
    collection = await useCollection(t, name, { points: 1 });
    const create = () => qdrant<{ name: string }>(q.url, "POST", `/collections/${collection}/snapshots?wait=true`, undefined, q.apiKey).then((r) => r.name);
    return { collection, create };
  }

  /** Qdrant names snapshots to the second: one made in the next is another file. */
  async function nextSecond() {
    const second = Math.floor(Date.now() / 1000);
    await eventually("the next second", () => Promise.resolve(Math.floor(Date.now() / 1000) > second ? true : undefined));
  }

  it("resolves a killed create's intent: deletes the one snapshot in its window, not a person's from before it", async (t) => {
    const { collection, create } = await collectionWithSnapshots(t, "a_intent");
    const person = await create();
    const personSecond = Math.floor(Date.now() / 1000);
    await nextSecond();
    await nextSecond();
    const killed = await create();
    // The create began 30 s after the second that follows the person's: the window starts after the person's snapshot.
    const { bucket, s3, ref } = await intentOf(t, collection, new Date((personSecond + 1) * 1000 + 30_000));
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone());
    assert.deepEqual(swept, { snapshots: 1, markers: 0, abortedUploads: 0, incompleteObjects: 0 });
    assert.deepEqual(await snapshotsOf(collection), [person], `the killed run's ${killed} is deleted, the person's stays`);
    assert.deepEqual(await listKeys(s3, bucket), [], "the intent is gone");
  });

  it("deletes none of several snapshots in an intent's window, and names them", async (t) => {
    const { collection, create } = await collectionWithSnapshots(t, "a_several");
    const notBefore = new Date();
    const a = await create();
    await nextSecond();
    const b = await create();
    const { bucket, s3, ref } = await intentOf(t, collection, notBefore);
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone());
    assert.deepEqual(swept, { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0, ambiguousSnapshots: [a, b].sort() });
    assert.deepEqual(await snapshotsOf(collection), [a, b].sort(), "both stay");
    assert.deepEqual(await listKeys(s3, bucket), [], "the intent is dropped");
  });

  it("ends an intent's window at `until` (when the backup was marked Failed): a later snapshot is not the killed run's", async (t) => {
    const { collection, create } = await collectionWithSnapshots(t, "a_later");
    const now = Date.now();
    const later = await create();
    const { bucket, s3, ref } = await intentOf(t, collection, new Date(now - 120_000));
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone(), { until: new Date(now - 60_000) });
    assert.deepEqual(swept, { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0 });
    assert.deepEqual(await snapshotsOf(collection), [later], "the next backup's (or a person's) snapshot stays");
    assert.deepEqual(await listKeys(s3, bucket), [], "the intent is dropped");
  });

  it("follows no intent to a peer the connection does not list", async (t) => {
    const { collection, create } = await collectionWithSnapshots(t, "a_unknown");
    const notBefore = new Date();
    const made = await create();
    const bucket = await useBucket(t);
    const s3 = s3Client();
    const plan = makePlan(q.url, bucket);
    const ref = { namespace: plan.source.namespace, connection: plan.source.connection, backupId: plan.backupId };
    await writeIntent(s3, bucket, backupPrefix({ ...ref, collection }), { peerId: "999", peerUrl: "http://127.0.0.9:1", collection, notBefore: notBefore.toISOString() });
    const swept = await sweepFailedBackup(s3, bucket, ref, qdrantApi(), await standalone());
    assert.deepEqual(swept, { snapshots: 0, markers: 0, abortedUploads: 0, incompleteObjects: 0, unknownPeerIntents: 1 });
    assert.deepEqual(await snapshotsOf(collection), [made], "nothing deleted anywhere");
    assert.deepEqual(await listKeys(s3, bucket), [], "the intent is dropped");
  });
});
