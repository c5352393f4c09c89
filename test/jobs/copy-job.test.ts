/**
 * `job copy` as a child process against the environment's Qdrant: it copies every point exactly (vectors,
 * named and sparse vectors, payloads), resumes from green's own record after a SIGKILL with no point lost
 * or duplicated, never writes into a green it did not create, fails permanently (with what to do) when
 * green's vectors differ from the source's, and refuses a bad plan naming the field.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { COPY_METADATA, OWNER_METADATA } from "../../src/controllers/rollout/names.ts";
import type { PointStruct } from "../../src/qdrant/client.ts";
import { allPoints, needsDistributedQdrant, needsEmulatorFaults, qdrantApi } from "../helpers/qdrant.ts";
import { eventually } from "../helpers/eventually.ts";
import { copyPlanFor, describeRun, fill, makeCollection, makeGreen, progressIn, rolloutIdentity, runCopy, startCopy } from "./copy-harness.ts";

const DOT4 = { vectors: { size: 4, distance: "Dot" as const } };

function points(count: number, from = 1): PointStruct[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, vector: [i * 0.5, -i, 1 / (i + 1), 3], payload: { n: from + i, text: `policy ${from + i}`, tags: ["a", { nested: i % 3 }] } }));
}

describe("job copy", () => {
  test("copies every point of the source into green exactly, and records done", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(1000));
    const green = await makeGreen(t, DOT4, owner);
    const run = await runCopy(copyPlanFor(owner, source, green, { batchSize: 64 }));
    assert.equal(run.code, 0, describeRun(run));
    assert.ok(run.result?.ok, describeRun(run));
    assert.equal(run.result.copiedPoints, 1000);
    assert.equal(run.result.totalPoints, 1000);
    assert.equal(run.result.batches, Math.ceil(1000 / 64));
    assert.equal(run.result.resumedFrom, undefined);
    assert.deepEqual(await allPoints(green), await allPoints(source));
    const meta = await qdrantApi().collectionMetadata(green);
    assert.deepEqual(meta[COPY_METADATA], { copied: 1000, total: 1000, done: true, attempt: 1 });
    assert.deepEqual(meta[OWNER_METADATA], owner, "the owner stamp stays beside the record");
  });

  test("named and sparse vectors and UUID ids are copied as they are", async (t) => {
    const owner = rolloutIdentity();
    const config = { vectors: { text: { size: 3, distance: "Dot" as const }, image: { size: 2, distance: "Euclid" as const } }, sparse_vectors: { keywords: {} } };
    const source = await makeCollection(t, "blue", config);
    const named: PointStruct[] = Array.from({ length: 150 }, (_, i) => ({
      id: i % 2 === 0 ? i : `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      vector: { text: [i, i + 1, i + 2], image: [-i, i / 7], ...(i % 3 === 0 ? { keywords: { indices: [i, i + 10], values: [0.5, 1.5] } } : {}) },
      payload: i % 5 === 0 ? {} : { i, name: `p${i}` },
    }));
    await fill(source, named);
    const green = await makeGreen(t, config, owner);
    const run = await runCopy(copyPlanFor(owner, source, green, { batchSize: 40 }));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(await allPoints(green), await allPoints(source));
    assert.equal(await qdrantApi().count(green), 150);
  });

  test("an empty source is a done copy of 0 points", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    const green = await makeGreen(t, DOT4, owner);
    const run = await runCopy(copyPlanFor(owner, source, green));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual({ ...run.result, durationSeconds: 0 }, { ok: true, copiedPoints: 0, totalPoints: 0, batches: 0, durationSeconds: 0 });
    assert.deepEqual(await progressIn(green), { copied: 0, total: 0, done: true, attempt: 1 });
  });

  test("killed mid-copy (SIGKILL), the next attempt resumes from green's record: no point lost or duplicated", async (t) => {
    const { admin } = needsEmulatorFaults(t, "slows green's upserts down so the kill lands mid-copy");
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(3000));
    const green = await makeGreen(t, DOT4, owner);
    const slow = await admin.delayNext({ method: "PUT", path: `/collections/${green}/points` }, 25, 100_000);
    t.after(() => admin.removeFault(slow.id).then(() => undefined));
    const first = startCopy(copyPlanFor(owner, source, green, { batchSize: 20 }));
    // Killed once green holds a record of pages applied (and more to go): the kill lands between records.
    const seen = await eventually("a progress record mid-copy", async () => {
      const p = await progressIn(green);
      return p && !p.done && p.copied >= 200 ? p : undefined;
    }, 60_000);
    first.child.kill("SIGKILL");
    const killed = await first.wait();
    assert.equal(killed.signal, "SIGKILL", describeRun(killed));
    const left = await progressIn(green);
    assert.ok(left && !left.done && left.copied >= seen.copied && left.copied < 3000, JSON.stringify(left));
    assert.ok((await qdrantApi().count(green)) >= left.copied, "the record is never ahead of the points");
    await admin.removeFault(slow.id);

    const second = await runCopy(copyPlanFor(owner, source, green, { batchSize: 20, attempt: 2 }));
    assert.equal(second.code, 0, describeRun(second));
    assert.ok(second.result?.ok, describeRun(second));
    assert.equal(second.result.resumedFrom, left.nextOffset, "resumed where the record said");
    assert.ok(second.result.batches < 3000 / 20, `resumed, not redone: ${second.result.batches} pages`);
    assert.equal(second.result.copiedPoints, 3000);
    assert.equal(second.result.totalPoints, 3000);
    assert.equal(await qdrantApi().count(green), 3000);
    assert.deepEqual(await allPoints(green), await allPoints(source));
    assert.deepEqual(await progressIn(green), { copied: 3000, total: 3000, done: true, attempt: 2 });
  });

  test("a done record is a success at once: nothing is copied again", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(10));
    const green = await makeGreen(t, DOT4, owner);
    await qdrantApi().updateCollectionMetadata(green, { [COPY_METADATA]: { copied: 10, total: 10, done: true, attempt: 1 } });
    const run = await runCopy(copyPlanFor(owner, source, green, { attempt: 2 }));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual({ ...run.result, durationSeconds: 0 }, { ok: true, copiedPoints: 10, totalPoints: 10, batches: 0, durationSeconds: 0 });
    assert.equal(await qdrantApi().count(green), 0, "the record is trusted: nothing was written");
  });

  test("a green without a record (deleted and created again) is copied from the first point, whatever the plan's resumeFrom says", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(100));
    const green = await makeGreen(t, DOT4, owner);
    const run = await runCopy(copyPlanFor(owner, source, green, { batchSize: 25, resumeFrom: 61, attempt: 3 }));
    assert.equal(run.code, 0, describeRun(run));
    assert.ok(run.result?.ok, describeRun(run));
    assert.equal(run.result.resumedFrom, undefined);
    assert.equal(run.result.batches, 4);
    assert.equal(run.result.copiedPoints, 100);
    assert.deepEqual(await allPoints(green), await allPoints(source), "no point before the old offset is left out");
  });

  test("a stranger's green (no stamp, or another rollout's) is refused permanently and left untouched", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(10));
    const unstamped = await makeCollection(t, "green", DOT4, { team: "search" });
    const other = rolloutIdentity();
    const othersGreen = await makeGreen(t, DOT4, { ...other, name: "someone-else" });
    for (const [green, whose] of [[unstamped, /names no rollout/], [othersGreen, new RegExp(`CollectionRollout team-a/someone-else \\(uid ${other.uid}\\)`)]] as const) {
      const run = await runCopy(copyPlanFor(owner, source, green));
      assert.equal(run.code, 2, describeRun(run));
      assert.ok(run.result && !run.result.ok, describeRun(run));
      assert.equal(run.result.reason, "GreenExists");
      assert.equal(run.result.retryable, false);
      assert.match(run.result.message, whose);
      assert.match(run.result.message, new RegExp(`not CollectionRollout team-a/policies \\(uid ${owner.uid}\\)`));
      assert.equal(await qdrantApi().count(green), 0);
      assert.equal(await progressIn(green), undefined, "no record written into a stranger's collection");
    }
  });

  test("green whose vectors have another size fails permanently, saying a new vector size needs source.external", async (t) => {
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(30));
    const green = await makeGreen(t, { vectors: { size: 8, distance: "Dot" } }, owner);
    const run = await runCopy(copyPlanFor(owner, source, green));
    assert.equal(run.code, 2, describeRun(run));
    assert.ok(run.result && !run.result.ok, describeRun(run));
    assert.equal(run.result.reason, "CopyFailed");
    assert.equal(run.result.retryable, false);
    assert.match(run.result.message, /expected dim: 8, got 4/);
    assert.match(run.result.message, /copyFrom copies vectors as they are.*needs source\.external/);
    assert.equal(await qdrantApi().count(green), 0);
  });

  test("a bad plan is refused naming the field", async () => {
    const owner = rolloutIdentity();
    const plan = { ...copyPlanFor(owner, "blue", "blue"), batchSize: 0 };
    const run = await runCopy(plan);
    assert.equal(run.code, 2, describeRun(run));
    assert.ok(run.result && !run.result.ok, describeRun(run));
    assert.equal(run.result.reason, "InvalidCopyPlan");
    assert.match(run.result.message, /plan\.batchSize/);
    assert.match(run.result.message, /plan\.target: is the source collection "blue"/);
    const none = await runCopy("");
    assert.equal(none.code, 2);
    assert.match(none.resultText, /COPY_PLAN is not set/);
  });

  test("a missing source is SourceNotFound, a retry may find it", async (t) => {
    const owner = rolloutIdentity();
    const green = await makeGreen(t, DOT4, owner);
    const run = await runCopy(copyPlanFor(owner, "no_such_collection_for_copy", green));
    assert.equal(run.code, 1, describeRun(run));
    assert.ok(run.result && !run.result.ok);
    assert.equal(run.result.reason, "SourceNotFound");
    assert.equal(run.result.retryable, true);
  });

  test("on a distributed Qdrant: a 3-shard source into a 3-shard green, through one peer; every peer reads the record", async (t) => {
    const peers = needsDistributedQdrant(t);
    const owner = rolloutIdentity();
    const config = { vectors: { size: 4, distance: "Dot" as const }, shard_number: 3 };
    const source = await makeCollection(t, "blue", config, undefined, peers[0]);
    await fill(source, points(700), peers[0]);
    const green = await makeGreen(t, config, owner, peers[0]);
    const run = await runCopy(copyPlanFor(owner, source, green, { batchSize: 50 }, peers[1]));
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(await qdrantApi(peers[2]).count(green), 700);
    assert.deepEqual(await allPoints(green, { url: peers[2]! }), await allPoints(source, { url: peers[0]! }));
    for (const peer of peers) assert.deepEqual(await progressIn(green, peer), { copied: 700, total: 700, done: true, attempt: 1 }, peer);
  });

  test("SIGTERM: the calls in flight are aborted, the result is a retryable Terminated, the record stays behind the points", async (t) => {
    const { admin } = needsEmulatorFaults(t, "holds green's upserts so SIGTERM lands while one is in flight");
    const owner = rolloutIdentity();
    const source = await makeCollection(t, "blue", DOT4);
    await fill(source, points(500));
    const green = await makeGreen(t, DOT4, owner);
    const held = await admin.delayNext({ method: "PUT", path: `/collections/${green}/points` }, 30_000, 1);
    t.after(() => admin.removeFault(held.id).then(() => undefined));
    const job = startCopy(copyPlanFor(owner, source, green, { batchSize: 50 }));
    // A fault is gone from the list once it fired: the first upsert is being held.
    await eventually("the first upsert held", async () => (await admin.faults()).every((f) => f.id !== held.id) || undefined, 60_000);
    job.child.kill("SIGTERM");
    const run = await job.wait();
    assert.equal(run.code, 1, describeRun(run));
    assert.ok(run.result && !run.result.ok, describeRun(run));
    assert.equal(run.result.reason, "Terminated");
    assert.equal(run.result.retryable, true);
    assert.deepEqual(await progressIn(green), { copied: 0, total: 500, done: false, attempt: 1 }, "nothing recorded beyond what was applied");
  });
});
