/**
 * The QdrantBackupSchedule controller in the real manager process against the real apiserver and MinIO:
 * a tick creates the QdrantBackup with its deterministic name and owner reference; Forbid with a running
 * backup, suspend and invalid specs create none; retention (dry run, then for real) prunes the backups
 * and their objects in the bucket, keeping the newest, the protected and what the rules keep; QdrantRestores
 * by backupRef, by location.backupId (also from another watched namespace) and by latest keep their
 * backups, and one being deleted releases its backup.
 *
 * The manager's controllers run on a controlled clock (QDRANT_OPERATOR_CLOCK_OFFSET_MS, see
 * src/manager/test-clock.ts) chosen so that the next minute tick comes LEAD_MS after the test starts,
 * instead of waiting for a real minute boundary.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { stringify } from "yaml";
import { API_VERSION } from "../src/api/group.ts";
import { backupId } from "../src/backup/layout/backup-id.ts";
import { manifestKey, snapshotKey } from "../src/backup/layout/object-keys.ts";
import { backupNameFor } from "../src/backup/schedule/backup-name.ts";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { s3Client, useBucket } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Obj {
  metadata: { name: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<Record<string, unknown>> };
  spec: Record<string, unknown>;
  status?: {
    conditions?: Cond[];
    lastScheduleTime?: string;
    nextScheduleTime?: string;
    active?: string[];
    history?: Array<{ name: string }>;
    prune?: { wouldPrune?: string[]; prunedTotal?: number; lastPruneTime?: string };
  };
}

const LEAD_MS = 10_000;

/** The first minute tick strictly after a schedule's creation: its first tick (decideTick's rule). */
const firstTick = (o: Obj): Date => new Date(Math.floor(Date.parse(o.metadata.creationTimestamp) / 60_000) * 60_000 + 60_000);
const kubeTime = (d: Date) => d.toISOString().replace(/\.\d+Z$/, "Z");

/**
 * An offset for the manager's clock such that `tick` comes LEAD_MS from now (real time). The schedules
 * exist before the manager starts, so their creation (apiserver time) is known and the tick is exact.
 */
function clockOffsetFor(tick: Date): Record<string, string> {
  return { [CLOCK_OFFSET_ENV]: String(tick.getTime() - Date.now() - LEAD_MS) };
}

const get = async (ns: string, resource: string, name: string): Promise<Obj> => JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as Obj;
const list = async (ns: string, resource: string): Promise<Obj[]> => (JSON.parse((await kubectl(["get", "-n", ns, resource, "-o", "json"])).stdout) as { items: Obj[] }).items;
const apply = (ns: string, objects: object[]) => kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
const patchStatus = (ns: string, resource: string, name: string, status: object) => kubectl(["patch", "-n", ns, resource, name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);

function schedule(name: string, spec: Record<string, unknown>): object {
  return { apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, ...spec } };
}

function ownedBackup(name: string, owner: Obj): object {
  return {
    apiVersion: API_VERSION,
    kind: "QdrantBackup",
    metadata: { name, ownerReferences: [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true }] },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } },
  };
}

const ready = (o: Obj) => o.status?.conditions?.find((c) => c.type === "Ready");
const DAY = 86_400_000;

/** The QdrantBackupLocation "s3" (and its Secret) for the test's bucket. */
function bucketLocation(bucket: string): object[] {
  const env = testEnv().s3;
  return [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3" }, stringData: { AWS_ACCESS_KEY_ID: env.accessKeyId, AWS_SECRET_ACCESS_KEY: env.secretAccessKey } },
    { apiVersion: API_VERSION, kind: "QdrantBackupLocation", metadata: { name: "s3" }, spec: { s3: { bucket, prefix: "qdrant", endpoint: env.endpoint, region: env.region, forcePathStyle: true, credentials: { secretRef: { name: "s3" } } } } },
  ];
}

/**
 * The schedule's QdrantBackups `names`, one a day (the last started a day ago), each Succeeded with a
 * manifest and a snapshot object in the bucket under its real backup id: what the backup Job leaves.
 */
async function succeededBackups(ns: string, bucket: string, s3: ReturnType<typeof s3Client>, sched: Obj, names: string[]): Promise<{ keysOf: Map<string, string[]>; idOf: Map<string, string>; completionOf: Map<string, Date> }> {
  const keysOf = new Map<string, string[]>();
  const idOf = new Map<string, string>();
  const completionOf = new Map<string, Date>();
  await apply(ns, names.map((n) => ownedBackup(n, sched)));
  for (const [i, n] of names.entries()) {
    const b = await get(ns, "qdrantbackup", n);
    const id = backupId(new Date(b.metadata.creationTimestamp), b.metadata.uid);
    const parts = { prefix: "qdrant", namespace: ns, connection: "qdrant", collection: "policies", backupId: id };
    const keys = [manifestKey(parts), snapshotKey(parts, "1")];
    keysOf.set(n, keys);
    idOf.set(n, id);
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${n}:${key}` }));
    const start = new Date(Date.now() - (names.length - i) * DAY);
    const completion = new Date(start.getTime() + 60_000);
    completionOf.set(n, completion);
    await patchStatus(ns, "qdrantbackup", n, { phase: "Succeeded", backupId: id, startTime: kubeTime(start), completionTime: kubeTime(completion), collections: [{ name: "policies", manifestKey: keys[0] }] });
  }
  return { keysOf, idOf, completionOf };
}

/** Waits until the schedule's status.prune.wouldPrune is exactly `want` (newest first). */
const wouldPrune = (ns: string, name: string, want: string[]) =>
  eventually(`wouldPrune ${JSON.stringify(want)}`, async () => {
    const o = await get(ns, "qdrantbackupschedule", name);
    return JSON.stringify(o.status?.prune?.wouldPrune) === JSON.stringify(want) ? o : undefined;
  });

async function scheduleEvents(ns: string, name: string): Promise<Array<{ reason: string; note: string }>> {
  const out = JSON.parse((await kubectl(["get", "-n", ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Array<{ reason: string; note: string; regarding: { name: string } }> };
  return out.items.filter((e) => e.regarding.name === name);
}

test("a */1 schedule creates its QdrantBackup at the tick: deterministic name, owner reference, label, annotation, status", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-tick");
  await apply(ns, [schedule("every-minute", { schedule: "*/1 * * * *", concurrencyPolicy: "Allow", backupLabels: { team: "search" }, deletionPolicy: "Retain" })]);
  const sched = await get(ns, "qdrantbackupschedule", "every-minute");
  const tick = firstTick(sched);
  const started = Date.now();
  await startManager(t, [ns], [], { env: clockOffsetFor(tick) });

  const name = backupNameFor("every-minute", tick);
  const backup = await eventually(`QdrantBackup ${name}`, () => get(ns, "qdrantbackup", name), 30_000);
  assert.ok(Date.now() - started >= LEAD_MS - 1000, "created at the tick, not before");
  assert.deepEqual(backup.metadata.ownerReferences, [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", name: "every-minute", uid: sched.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(backup.metadata.labels?.["qdrant-operator.dev/schedule"], "every-minute");
  assert.equal(backup.metadata.labels?.team, "search");
  assert.equal(backup.metadata.annotations?.["qdrant-operator.dev/scheduled-time"], kubeTime(tick));
  assert.deepEqual(backup.spec, { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, mode: "Collection", collections: { names: ["policies"] }, deletionPolicy: "Retain" });

  const after = await eventually("status after the tick", async () => {
    const o = await get(ns, "qdrantbackupschedule", "every-minute");
    return o.status?.lastScheduleTime === kubeTime(tick) ? o : undefined;
  });
  const next = kubeTime(new Date(tick.getTime() + 60_000));
  assert.equal(after.status?.nextScheduleTime, next);
  assert.equal(after.status?.history?.[0]?.name, name);
  assert.equal(ready(after)?.message, `Next backup at ${next}.`);
  const events = await eventually("a Created Event", async () => {
    const e = await scheduleEvents(ns, "every-minute");
    return e.some((x) => x.reason === "Created") ? e : undefined;
  });
  assert.match(events.find((e) => e.reason === "Created")?.note ?? "", new RegExp(`Created QdrantBackup ${name} for `));
  // Exactly one backup for the tick.
  assert.deepEqual((await list(ns, "qdrantbackup")).map((b) => b.metadata.name), [name]);
});

test("Forbid with a running backup, suspend and invalid specs create no backups; invalid specs name the field", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-none");
  // Everything is in place before the manager (and so the first tick) starts.
  await apply(ns, [
    schedule("forbid", { schedule: "*/1 * * * *", concurrencyPolicy: "Forbid" }),
    schedule("suspended", { schedule: "*/1 * * * *", suspend: true }),
    schedule("bad-cron", { schedule: "61 * * * *" }),
    schedule("bad-zone", { schedule: "*/1 * * * *", timeZone: "Mars/Olympus" }),
  ]);
  const forbid = await get(ns, "qdrantbackupschedule", "forbid");
  const suspended = await get(ns, "qdrantbackupschedule", "suspended");
  await apply(ns, [ownedBackup("still-running", forbid)]);
  await patchStatus(ns, "qdrantbackup", "still-running", { phase: "Running", startTime: kubeTime(new Date()) });
  const ticks = new Map([
    ["forbid", firstTick(forbid)],
    ["suspended", firstTick(suspended)],
  ]);
  const tick = ticks.get("forbid") as Date;
  await startManager(t, [ns], [], { env: clockOffsetFor(new Date(Math.max(...[...ticks.values()].map((d) => d.getTime())))) });

  for (const [name, field] of [
    ["bad-cron", /^spec\.schedule: "61 \* \* \* \*" is not a valid schedule: .*use 5 fields/],
    ["bad-zone", /^spec\.timeZone: unknown time zone "Mars\/Olympus": use an IANA name/],
  ] as const) {
    const cond = await eventually(`${name} Ready=False`, async () => {
      const c = ready(await get(ns, "qdrantbackupschedule", name));
      return c?.status === "False" ? c : undefined;
    });
    assert.equal(cond.reason, "InvalidSpec");
    assert.match(cond.message, field);
  }

  // The tick passes for both valid schedules: each moves nextScheduleTime on to the following minute.
  for (const [name, t1] of ticks) {
    const next = kubeTime(new Date(t1.getTime() + 60_000));
    await eventually(`${name} past its tick`, async () => ((await get(ns, "qdrantbackupschedule", name)).status?.nextScheduleTime === next ? true : undefined), 30_000);
  }
  const f = await get(ns, "qdrantbackupschedule", "forbid");
  assert.equal(f.status?.lastScheduleTime, undefined, "Forbid records nothing: the tick runs when the backup ends");
  assert.deepEqual(f.status?.active, ["still-running"]);
  assert.ok((await scheduleEvents(ns, "forbid")).some((e) => e.reason === "Skipped" && /still-running still running/.test(e.note)));
  const s = await get(ns, "qdrantbackupschedule", "suspended");
  assert.equal(ready(s)?.reason, "Suspended");
  assert.deepEqual((await list(ns, "qdrantbackup")).map((b) => b.metadata.name), ["still-running"]);

  // The running backup ends, still within the (absent) deadline: the held-back tick runs now.
  await patchStatus(ns, "qdrantbackup", "still-running", { phase: "Failed", completionTime: kubeTime(new Date()) });
  const caughtUp = backupNameFor("forbid", tick);
  await eventually(`${caughtUp} after the running backup ended`, () => get(ns, "qdrantbackup", caughtUp), 30_000);
});

test("retention: dryRun reports wouldPrune; then the pruned backups' manifests and objects are deleted, the kept and protected ones stay", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-prune");
  const bucket = await useBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  await startManager(t, [ns]);
  await apply(ns, [
    ...bucketLocation(bucket),
    // Yearly, so no tick interferes; keepLast 2 over five successful backups.
    schedule("daily", { schedule: "0 0 1 1 *", retention: { keepLast: 2, dryRun: true } }),
  ]);
  const sched = await get(ns, "qdrantbackupschedule", "daily");

  const { keysOf } = await succeededBackups(ns, bucket, s3, sched, ["b1", "b2", "b3", "b4", "b5"]);
  // A restore names the oldest: protected.
  await apply(ns, [{ apiVersion: API_VERSION, kind: "QdrantRestore", metadata: { name: "from-b1" }, spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" } } } }]);

  const dry = await wouldPrune(ns, "daily", ["b3", "b2"]);
  assert.equal(dry.status?.prune?.prunedTotal ?? 0, 0);
  assert.equal((await list(ns, "qdrantbackup")).length, 5, "a dry run deletes nothing");

  await kubectl(["patch", "-n", ns, "qdrantbackupschedule", "daily", "--type=merge", "-p", JSON.stringify({ spec: { retention: { keepLast: 2, dryRun: false } } })]);
  const done = await eventually("prunedTotal 2", async () => {
    const o = await get(ns, "qdrantbackupschedule", "daily");
    return o.status?.prune?.prunedTotal === 2 ? o : undefined;
  });
  assert.equal(done.status?.prune?.wouldPrune, undefined);
  assert.ok(done.status?.prune?.lastPruneTime);
  await eventually("b2 and b3 deleted", async () => {
    const left = (await list(ns, "qdrantbackup")).map((b) => b.metadata.name).sort();
    return JSON.stringify(left) === JSON.stringify(["b1", "b4", "b5"]) ? true : undefined;
  });
  const listed = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? "").sort();
  assert.deepEqual(listed, ["b1", "b4", "b5"].flatMap((n) => keysOf.get(n) ?? []).sort());
  const pruneEvents = (await scheduleEvents(ns, "daily")).filter((e) => e.reason === "Pruned");
  assert.deepEqual(pruneEvents.map((e) => /QdrantBackup (\S+)/.exec(e.note)?.[1]).sort(), ["b2", "b3"]);
});

test("retention: QdrantRestores by location.backupId (from any watched namespace) and by latest keep their backups through a prune; a restore being deleted releases its backup", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-protect");
  // Another team's namespace, restoring from the same bucket by backup id.
  const dr = await useNamespace(t, "e2e-qbs-protect-dr");
  const bucket = await useBucket(t);
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const manager = await startManager(t, [ns, dr]);
  await apply(ns, [...bucketLocation(bucket), schedule("daily", { schedule: "0 0 1 1 *", retention: { keepLast: 1, dryRun: true } })]);
  const sched = await get(ns, "qdrantbackupschedule", "daily");
  const { keysOf, idOf, completionOf } = await succeededBackups(ns, bucket, s3, sched, ["b1", "b2", "b3", "b4", "b5"]);

  const restore = (name: string, source: object, metadata: object = {}) => ({ apiVersion: API_VERSION, kind: "QdrantRestore", metadata: { name, ...metadata }, spec: { source, target: { connectionRef: { name: "qdrant" } } } });
  const HOLD = "e2e.qdrant-operator.dev/hold";
  // by-id is held by a finalizer, so that deleting it leaves it in the "being deleted" state.
  const release = () => kubectl(["patch", "-n", ns, "qdrantrestore", "by-id", "--type=merge", "-p", JSON.stringify({ metadata: { finalizers: null } })]).catch(() => undefined);
  t.after(release);
  await apply(ns, [
    restore("by-id", { location: { locationRef: { name: "s3" }, backupId: idOf.get("b2") } }, { finalizers: [HOLD] }),
    // latest with a point in time between b4's and b5's completion: resolves to b4, not the newest.
    restore("pit", { latest: { locationRef: { name: "s3" }, collection: "policies", notAfter: kubeTime(new Date((completionOf.get("b5") as Date).getTime() - DAY / 2)) } }),
  ]);
  await apply(dr, [restore("from-bucket", { location: { locationRef: { name: "s3" }, backupId: idOf.get("b3") } })]);

  // keepLast 1 keeps b5; the three restores keep b2, b3 and b4.
  await wouldPrune(ns, "daily", ["b1"]);
  const protectedNotes = await eventually("a Protected Event for each held backup", async () => {
    const notes = (await scheduleEvents(ns, "daily")).filter((e) => e.reason === "Protected").map((e) => e.note);
    return notes.length >= 3 ? notes.sort() : undefined;
  });
  assert.deepEqual(protectedNotes, [
    `Kept QdrantBackup b2, which retention would prune: QdrantRestore ${ns}/by-id restores it (spec.source.location.backupId).`,
    `Kept QdrantBackup b3, which retention would prune: QdrantRestore ${dr}/from-bucket restores it (spec.source.location.backupId).`,
    `Kept QdrantBackup b4, which retention would prune: QdrantRestore ${ns}/pit restores it (spec.source.latest: the newest backup of collection policies).`,
  ]);

  // Being deleted (held by its finalizer) releases b2 at once.
  await kubectl(["delete", "-n", ns, "qdrantrestore", "by-id", "--wait=false"]);
  await wouldPrune(ns, "daily", ["b2", "b1"]);

  await kubectl(["patch", "-n", ns, "qdrantbackupschedule", "daily", "--type=merge", "-p", JSON.stringify({ spec: { retention: { keepLast: 1, dryRun: false } } })]);
  await eventually("prunedTotal 2", async () => ((await get(ns, "qdrantbackupschedule", "daily")).status?.prune?.prunedTotal === 2 ? true : undefined));
  await eventually("b1 and b2 deleted", async () => {
    const left = (await list(ns, "qdrantbackup")).map((b) => b.metadata.name).sort();
    return JSON.stringify(left) === JSON.stringify(["b3", "b4", "b5"]) ? true : undefined;
  });
  const listed = ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key ?? "").sort();
  assert.deepEqual(listed, ["b3", "b4", "b5"].flatMap((n) => keysOf.get(n) ?? []).sort());
  await release();
  // The yearly schedule's requeue (months ahead) is past Node's timer limit, where a plain timer would fire
  // after 1 ms; the clock chains it, so every wake above came from a watch, not from a reconcile loop.
  assert.doesNotMatch(await manager.log(), /TimeoutOverflowWarning/);
});
