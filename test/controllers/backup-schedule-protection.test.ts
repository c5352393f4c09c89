/**
 * Which QdrantRestores protect which QdrantBackups from a schedule's retention, as table tests: the three
 * source forms (backupRef, location.backupId, latest), status.backupId, restores in other namespaces,
 * restores being deleted, latest's resolution over the whole namespace and its policies, the schedules a
 * restore event wakes, and the reasons retention reports for what it keeps.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { planScheduleRetention } from "../../src/controllers/backup-schedule/plan.ts";
import { mayBeLatestPick, protectedBackups, protectionInputsChanged, resolveLatest, schedulesAffectedBy } from "../../src/controllers/backup-schedule/protection.ts";
import { SCHEDULE_LABEL } from "../../src/api/labels.ts";
import { type RestoreObject, type ScheduledBackupObject, type ScheduleObject } from "../../src/controllers/backup-schedule/types.ts";

const SCHEDULE_UID = "11111111-2222-3333-4444-555555555555";
const NOW = new Date("2026-01-15T12:00:30Z");
const HOUR = 3_600_000;

type Phase = "Pending" | "Running" | "Succeeded" | "Failed";
interface BackupOpts {
  ns?: string;
  phase?: Phase;
  /** Hours before NOW it completed (and started 5 minutes earlier). */
  hoursAgo?: number;
  collections?: string[];
  /** What status.collections lists, when not `collections` (a status cut short, or a backup of `all`). */
  statusCollections?: string[];
  /** spec.collections.all instead of names. */
  all?: boolean;
  location?: string;
  /** "nightly" (default: the schedule's controller reference), another schedule's name, or "none". */
  owner?: string;
  label?: string;
  deleting?: boolean;
  statusId?: string;
}

let uidCounter = 0;
/** A QdrantBackup with a real uid and creation time, so its backup id is derivable. */
function qb(name: string, o: BackupOpts = {}): ScheduledBackupObject {
  const uid = `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, "0")}`;
  const hours = o.hoursAgo ?? 1;
  const done = new Date(NOW.getTime() - hours * HOUR);
  const owner = o.owner ?? "nightly";
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: {
      name,
      namespace: o.ns ?? "prod",
      uid,
      creationTimestamp: new Date(done.getTime() - 10 * 60_000).toISOString().replace(/\.\d+Z$/, "Z"),
      ...(o.label !== undefined ? { labels: { [SCHEDULE_LABEL]: o.label } } : {}),
      ...(owner !== "none"
        ? { ownerReferences: [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: owner, uid: owner === "nightly" ? SCHEDULE_UID : `${owner}-uid`, controller: true }] }
        : {}),
      ...(o.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
    },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: o.location ?? "s3" }, collections: o.all ? { all: true } : { names: o.collections ?? ["policies"] } },
    status: {
      phase: o.phase ?? "Succeeded",
      startTime: new Date(done.getTime() - 5 * 60_000).toISOString(),
      ...(o.phase === undefined || o.phase === "Succeeded" || o.phase === "Failed" ? { completionTime: done.toISOString() } : {}),
      collections: (o.statusCollections ?? o.collections ?? ["policies"]).map((name) => ({ name })),
      ...(o.statusId !== undefined ? { backupId: o.statusId } : {}),
    },
  };
}

const idOf = (b: ScheduledBackupObject) => backupId(new Date(b.metadata?.creationTimestamp ?? ""), b.metadata?.uid ?? "");

function restore(name: string, source: NonNullable<RestoreObject["spec"]>["source"], o: { ns?: string; policy?: string; status?: RestoreObject["status"]; deleting?: boolean } = {}): RestoreObject {
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantRestore",
    metadata: { name, namespace: o.ns ?? "prod", ...(o.deleting ? { deletionTimestamp: NOW.toISOString() } : {}) },
    spec: { source, ...(o.policy !== undefined ? { policy: o.policy } : {}) },
    ...(o.status ? { status: o.status } : {}),
  };
}

const latestOf = (extra: Record<string, unknown> = {}) => ({ latest: { locationRef: { name: "s3" }, collection: "policies", ...extra } });
const asObject = (m: Map<string, string[]>) => Object.fromEntries(m);

test("which restore protects which backup: backupRef, location.backupId, status.backupId, other namespaces, deletion", () => {
  const old = qb("old", { hoursAgo: 48 });
  const mid = qb("mid", { hoursAgo: 24, statusId: "20990101T000000Z-00000000-0000-4000-8000-999999999999" });
  const backups = [old, mid, qb("new", { hoursAgo: 1 })];
  const rows: Array<{ name: string; restores: RestoreObject[]; want: Record<string, string[]> }> = [
    { name: "no restores", restores: [], want: {} },
    { name: "backupRef in the namespace", restores: [restore("r", { backupRef: { name: "old" } })], want: { old: ["QdrantRestore prod/r restores it (spec.source.backupRef)"] } },
    { name: "backupRef from another namespace names another namespace's backup", restores: [restore("r", { backupRef: { name: "old" } }, { ns: "staging" })], want: {} },
    { name: "backupRef of a backup that does not exist (yet)", restores: [restore("r", { backupRef: { name: "future" } })], want: { future: ["QdrantRestore prod/r restores it (spec.source.backupRef)"] } },
    {
      name: "location.backupId in the namespace",
      restores: [restore("r", { location: { locationRef: { name: "s3" }, backupId: idOf(old) } })],
      want: { old: ["QdrantRestore prod/r restores it (spec.source.location.backupId)"] },
    },
    {
      name: "location.backupId from another namespace (same bucket): ids are globally unique",
      restores: [restore("dr", { location: { locationRef: { name: "other-s3" }, backupId: idOf(old) } }, { ns: "staging" })],
      want: { old: ["QdrantRestore staging/dr restores it (spec.source.location.backupId)"] },
    },
    {
      name: "location with the backup's sourceNamespace",
      restores: [restore("dr", { location: { locationRef: { name: "s3" }, backupId: idOf(old), sourceNamespace: "prod" } }, { ns: "staging" })],
      want: { old: ["QdrantRestore staging/dr restores it (spec.source.location.backupId)"] },
    },
    { name: "location with another sourceNamespace: it looks under another prefix", restores: [restore("dr", { location: { locationRef: { name: "s3" }, backupId: idOf(old), sourceNamespace: "staging" } }, { ns: "staging" })], want: {} },
    { name: "location id of no backup here", restores: [restore("r", { location: { locationRef: { name: "s3" }, backupId: "20260101T000000Z-00000000-0000-4000-8000-999999999999" } })], want: {} },
    { name: "an id only a backup's status claims protects nothing: ids come from metadata", restores: [restore("r", { location: { locationRef: { name: "s3" }, backupId: mid.status?.backupId ?? "" } })], want: {} },
    {
      name: "status.backupId of a restore in another namespace",
      restores: [restore("done", { location: { locationRef: { name: "s3" }, backupId: "20260101T000000Z-00000000-0000-4000-8000-999999999999" } }, { ns: "staging", status: { phase: "Succeeded", backupId: idOf(mid) } })],
      want: { mid: ["QdrantRestore staging/done restored it (status.backupId)"] },
    },
    {
      name: "several restores of one backup: every one is named, sorted",
      restores: [restore("b", { backupRef: { name: "old" } }), restore("a", { location: { locationRef: { name: "s3" }, backupId: idOf(old) } }, { status: { backupId: idOf(old) } })],
      want: { old: ["QdrantRestore prod/a restored it (status.backupId)", "QdrantRestore prod/a restores it (spec.source.location.backupId)", "QdrantRestore prod/b restores it (spec.source.backupRef)"] },
    },
    {
      name: "restores being deleted protect nothing, whatever the form",
      restores: [
        restore("r1", { backupRef: { name: "old" } }, { deleting: true }),
        restore("r2", { location: { locationRef: { name: "s3" }, backupId: idOf(old) } }, { deleting: true, ns: "staging" }),
        restore("r3", latestOf(), { deleting: true, status: { backupId: idOf(mid) } }),
      ],
      want: {},
    },
  ];
  for (const row of rows) assert.deepEqual(asObject(protectedBackups(backups, row.restores)), row.want, row.name);
});

test("latest resolves over the whole namespace: Succeeded, same location, the collection, scheduleRef, notAfter; newest by completion", () => {
  const names = (r: RestoreObject, backups: ScheduledBackupObject[]) => resolveLatest(r, backups).map((b) => b.metadata?.name);
  const base = [qb("d3", { hoursAgo: 72 }), qb("d2", { hoursAgo: 48 }), qb("d1", { hoursAgo: 24 })];
  const rows: Array<{ name: string; extra?: Record<string, unknown>; add?: ScheduledBackupObject[]; ns?: string; want: string[] }> = [
    { name: "the newest successful", want: ["d1"] },
    {
      name: "newer but not usable: running, failed, being deleted, another location, another collection",
      add: [
        qb("running", { phase: "Running", hoursAgo: 0 }),
        qb("failed", { phase: "Failed", hoursAgo: 1 }),
        qb("deleting", { hoursAgo: 2, deleting: true }),
        qb("elsewhere", { hoursAgo: 3, location: "gcs" }),
        qb("orders", { hoursAgo: 4, collections: ["orders"] }),
        qb("other-ns", { hoursAgo: 5, ns: "staging" }),
      ],
      want: ["d1"],
    },
    { name: "a newer full-storage backup is not what latest reads", add: [{ ...qb("full", { hoursAgo: 2, owner: "none" }), spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, mode: "FullStorage" } }], want: ["d1"] },
    { name: "a newer manual backup of the collection wins", add: [qb("manual", { hoursAgo: 2, owner: "none", collections: ["orders", "policies"] })], want: ["manual"] },
    { name: "scheduleRef: only the schedule's (its controller reference)", extra: { scheduleRef: { name: "nightly" } }, add: [qb("manual", { hoursAgo: 2, owner: "none" })], want: ["d1"] },
    { name: "scheduleRef: the schedule label counts too", extra: { scheduleRef: { name: "hourly" } }, add: [qb("h1", { hoursAgo: 30, owner: "none", label: "hourly" }), qb("h2", { hoursAgo: 3, owner: "hourly" })], want: ["h2"] },
    { name: "scheduleRef of a schedule with no backups", extra: { scheduleRef: { name: "weekly" } }, want: [] },
    { name: "notAfter: the newest completed at or before it", extra: { notAfter: new Date(NOW.getTime() - 48 * HOUR).toISOString() }, want: ["d2"] },
    { name: "notAfter before every backup", extra: { notAfter: "2020-01-01T00:00:00Z" }, want: [] },
    { name: "two completed in the same second: both", add: [qb("twin", { hoursAgo: 24, owner: "none" })], want: ["d1", "twin"] },
    { name: "another collection", extra: { collection: "orders" }, want: [] },
    {
      name: "a backup of all, its status listing every one of many collections (more than a Job's result holds)",
      extra: { collection: "c-199" },
      add: [qb("all", { hoursAgo: 2, all: true, statusCollections: Array.from({ length: 200 }, (_, i) => `c-${i}`) })],
      want: ["all"],
    },
    { name: "a status cut short does not hide a collection spec.collections names", add: [qb("named", { hoursAgo: 2, collections: ["orders", "policies"], statusCollections: ["orders"] })], want: ["named"] },
    {
      name: "notAfter inside a backup's run: its manifest may be before it, so it and the newest surely before are both kept",
      // d1 was created 24 h 10 min ago and completed 24 h ago: notAfter 24 h 5 min ago lies in its run.
      extra: { notAfter: new Date(NOW.getTime() - 24 * HOUR - 5 * 60_000).toISOString() },
      want: ["d2", "d1"],
    },
    { name: "a restore in another namespace resolves in its own", ns: "staging", want: [] },
  ];
  for (const row of rows) {
    const r = restore("r", latestOf(row.extra), row.ns ? { ns: row.ns } : {});
    assert.deepEqual(names(r, [...base, ...(row.add ?? [])]), row.want, row.name);
  }
});

test("latest protects while the restore may still resolve it: IfMissing and Drill always, Once until Succeeded or Failed", () => {
  const backups = [qb("older", { hoursAgo: 48 }), qb("newest", { hoursAgo: 1 })];
  const LATEST = "QdrantRestore prod/r restores it (spec.source.latest: the newest backup of collection policies)";
  const STATUS = "QdrantRestore prod/r restored it (status.backupId)";
  const rows: Array<{ policy?: string; status?: RestoreObject["status"]; want: Record<string, string[]> }> = [
    { want: { newest: [LATEST] } },
    { policy: "Once", status: { phase: "Pending" }, want: { newest: [LATEST] } },
    { policy: "Once", status: { phase: "Running", backupId: idOf(backups[1] as ScheduledBackupObject) }, want: { newest: [LATEST, STATUS].sort() } },
    { policy: "Once", status: { phase: "Succeeded" }, want: {} },
    { status: { phase: "Failed" }, want: {} },
    // A finished one-off restore keeps the backup it actually used, not whatever is newest now.
    { policy: "Once", status: { phase: "Succeeded", backupId: idOf(backups[0] as ScheduledBackupObject) }, want: { older: [STATUS] } },
    { policy: "IfMissing", status: { phase: "Watching" }, want: { newest: [LATEST] } },
    { policy: "IfMissing", status: { phase: "Succeeded" }, want: { newest: [LATEST] } },
    { policy: "Drill", status: { phase: "Failed" }, want: { newest: [LATEST] } },
  ];
  for (const row of rows) {
    const r = restore("r", latestOf(), { ...(row.policy ? { policy: row.policy } : {}), ...(row.status ? { status: row.status } : {}) });
    assert.deepEqual(asObject(protectedBackups(backups, [r])), row.want, JSON.stringify(row));
  }
});

test("retention keeps what restores protect, says which restore, and reports the backups only a restore holds", () => {
  const s: ScheduleObject = {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackupSchedule",
    metadata: { name: "nightly", namespace: "prod", uid: SCHEDULE_UID },
    spec: { schedule: "0 0 * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, retention: { keepLast: 1 } },
  };
  const owned = [5, 4, 3, 2, 1].map((d) => qb(`b${d}`, { hoursAgo: d * 24 }));
  const byName = (n: string) => owned.find((b) => b.metadata?.name === n) as ScheduledBackupObject;
  const restores = [
    restore("by-id", { location: { locationRef: { name: "s3" }, backupId: idOf(byName("b4")) } }, { ns: "staging" }),
    restore("pit", latestOf({ notAfter: new Date(NOW.getTime() - 60 * HOUR).toISOString() })),
    restore("gone", { backupRef: { name: "b5" } }, { deleting: true }),
    // Keeps the newest, which keepLast keeps anyway: not "held".
    restore("newest", { backupRef: { name: "b1" } }),
  ];
  const plan = planScheduleRetention(s, owned, restores, NOW);
  assert.deepEqual(plan.prune.map((p) => p.name), ["b2", "b5"]);
  assert.deepEqual(plan.held, [
    { name: "b3", reasons: ["QdrantRestore prod/pit restores it (spec.source.latest: the newest backup of collection policies)"] },
    { name: "b4", reasons: ["QdrantRestore staging/by-id restores it (spec.source.location.backupId)"] },
  ]);

  // A newer manual backup (not the schedule's) is what latest now picks: the schedule's b3 is released.
  const manual = qb("manual", { hoursAgo: 61, owner: "none" });
  const released = planScheduleRetention(s, owned, restores, NOW, [...owned, manual]);
  assert.deepEqual(released.prune.map((p) => p.name), ["b2", "b3", "b5"]);
  assert.deepEqual(released.held.map((h) => h.name), ["b4"]);

  // dryRun reports the same.
  const dry = planScheduleRetention({ ...s, spec: { ...s.spec, retention: { keepLast: 1, dryRun: true } } }, owned, restores, NOW);
  assert.deepEqual(dry.prune, []);
  assert.deepEqual(dry.wouldPrune, ["b2", "b5"]);
  assert.deepEqual(dry.held.map((h) => h.name), ["b3", "b4"]);
});

test("the schedules a restore event wakes, and which updates wake any", () => {
  const ours = qb("ours", { hoursAgo: 2 });
  const theirs = qb("theirs", { hoursAgo: 3, ns: "team-b", owner: "hourly" });
  const manual = qb("manual", { hoursAgo: 4, owner: "none" });
  const backups = [ours, theirs, manual];
  const rows: Array<{ name: string; r: RestoreObject; want: { schedules: string[]; allSchedulesIn: string[] } }> = [
    { name: "backupRef", r: restore("r", { backupRef: { name: "ours" } }), want: { schedules: ["prod/nightly"], allSchedulesIn: [] } },
    { name: "backupRef of a same-named backup elsewhere does not count", r: restore("r", { backupRef: { name: "theirs" } }), want: { schedules: [], allSchedulesIn: [] } },
    { name: "location.backupId of another namespace's backup", r: restore("r", { location: { locationRef: { name: "s3" }, backupId: idOf(theirs) } }), want: { schedules: ["team-b/hourly"], allSchedulesIn: [] } },
    {
      name: "status.backupId as well as the source's id",
      r: restore("r", { location: { locationRef: { name: "s3" }, backupId: idOf(ours) } }, { status: { backupId: idOf(theirs) } }),
      want: { schedules: ["prod/nightly", "team-b/hourly"], allSchedulesIn: [] },
    },
    { name: "a backup no schedule owns", r: restore("r", { backupRef: { name: "manual" } }), want: { schedules: [], allSchedulesIn: [] } },
    { name: "latest: every schedule of the restore's namespace", r: restore("r", latestOf(), { ns: "team-b" }), want: { schedules: [], allSchedulesIn: ["team-b"] } },
  ];
  for (const row of rows) assert.deepEqual(schedulesAffectedBy(row.r, backups), row.want, row.name);

  const r = restore("r", latestOf(), { status: { phase: "Running" } });
  const changed: Array<[string, RestoreObject, boolean]> = [
    ["the same object (a resync)", r, false],
    ["conditions only", { ...r, status: { ...r.status, conditions: [] } as RestoreObject["status"] }, false],
    ["phase", { ...r, status: { phase: "Succeeded" } }, true],
    ["status.backupId", { ...r, status: { phase: "Running", backupId: idOf(ours) } }, true],
    ["policy", { ...r, spec: { ...r.spec, policy: "IfMissing" } }, true],
    ["deletionTimestamp", { ...r, metadata: { ...r.metadata, deletionTimestamp: NOW.toISOString() } }, true],
  ];
  for (const [name, next, want] of changed) assert.equal(protectionInputsChanged(r, next), want, name);
});

test("latest is selected once per distinct source, and left out when none of the schedule's backups could be picked", () => {
  const older = qb("older", { hoursAgo: 5 });
  const newer = qb("newer", { hoursAgo: 2 });
  const failed = qb("failed", { hoursAgo: 1, phase: "Failed" });
  const running = qb("running", { hoursAgo: 0, phase: "Running" });
  const gone = qb("gone", { hoursAgo: 3, deleting: true });
  assert.deepEqual([older, newer, failed, running, gone].map(mayBeLatestPick), [true, true, false, false, false], "only a Succeeded backup not being deleted");
  const latest = (r: string) => `QdrantRestore prod/${r} restores it (spec.source.latest: the newest backup of collection policies)`;
  // Two drills of the same source share one selection and are both named; a third with notAfter picks the older.
  const restores = [
    restore("d1", latestOf(), { policy: "Drill" }),
    restore("d2", latestOf(), { policy: "Drill" }),
    restore("pit", latestOf({ notAfter: new Date(NOW.getTime() - 4 * HOUR).toISOString() }), { policy: "IfMissing" }),
    restore("ref", { backupRef: { name: "failed" } }),
  ];
  const backups = [older, newer, failed, running, gone];
  assert.deepEqual(asObject(protectedBackups(backups, restores)), { newer: [latest("d1"), latest("d2")], older: [latest("pit")], failed: ["QdrantRestore prod/ref restores it (spec.source.backupRef)"] });
  assert.deepEqual(asObject(protectedBackups(backups, restores, { latest: false })), { failed: ["QdrantRestore prod/ref restores it (spec.source.backupRef)"] }, "latest: false keeps the other forms");
  // A schedule whose own backups are all failed or running: retention decides the same without latest.
  const schedule = { apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", metadata: { name: "nightly", namespace: "prod", uid: SCHEDULE_UID }, spec: { schedule: "0 2 * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, retention: { failedBackupsToKeep: 0 } } } as unknown as ScheduleObject;
  const own = [failed, qb("failed-2", { hoursAgo: 4, phase: "Failed" })];
  const plan = planScheduleRetention(schedule, own, restores, NOW, backups);
  assert.deepEqual(plan.prune.map((p) => p.name).sort(), ["failed-2"], "the unprotected failed backup is pruned, the one a backupRef names is held");
  assert.deepEqual(plan.held.map((h) => h.name), ["failed"]);
});
