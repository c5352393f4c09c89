/**
 * The QdrantBackupSchedule controller's decisions, as table tests with a fixed `now` and no cluster:
 * concurrency policies with a running backup, missed runs after downtime, suspend, startingDeadlineSeconds,
 * adopt vs foreign, spec problems, status summaries, and retention over a year of synthetic backups.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantBackupScheduleSpec, Retention } from "../../src/api/v1alpha1/backup-schedule.ts";
import { backupNameFor } from "../../src/backup/schedule/backup-name.ts";
import { parseSchedule, type ParsedSchedule } from "../../src/backup/schedule/parse-schedule.ts";
import { checkScheduleSpec, childRefused, planScheduleRetention, planTick, summarizeBackups, tickBackups } from "../../src/controllers/backup-schedule/plan.ts";
import { SCHEDULE_LABEL, SCHEDULED_TIME_ANNOTATION } from "../../src/api/labels.ts";
import { type RestoreObject, type ScheduledBackupObject, type ScheduleObject } from "../../src/controllers/backup-schedule/types.ts";

const UID = "11111111-2222-3333-4444-555555555555";
const OTHER_UID = "99999999-2222-3333-4444-555555555555";
const NOW = new Date("2026-01-15T12:00:30Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function schedule(spec: Partial<QdrantBackupScheduleSpec> = {}, status: ScheduleObject["status"] = {}, created = "2026-01-15T10:30:00Z"): ScheduleObject {
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackupSchedule",
    metadata: { name: "nightly", namespace: "prod", uid: UID, creationTimestamp: created, generation: 1 },
    spec: { schedule: "0 * * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, ...spec },
    status,
  };
}

function backup(name: string, phase: "Pending" | "Running" | "Succeeded" | "Failed" | undefined, opts: { owner?: string; start?: string; end?: string; scheduled?: string; deleting?: boolean } = {}): ScheduledBackupObject {
  const owner = opts.owner ?? UID;
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: {
      name,
      namespace: "prod",
      uid: `uid-${name}`,
      ...(opts.scheduled ? { annotations: { [SCHEDULED_TIME_ANNOTATION]: opts.scheduled } } : {}),
      ...(owner !== "none" ? { ownerReferences: [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: "nightly", uid: owner, controller: true }] } : {}),
      ...(opts.deleting ? { deletionTimestamp: "2026-01-15T12:00:00Z" } : {}),
    },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } },
    ...(phase !== undefined ? { status: { phase, ...(opts.start ? { startTime: opts.start } : {}), ...(opts.end ? { completionTime: opts.end } : {}) } } : {}),
  };
}

function parsed(s: ScheduleObject): ParsedSchedule {
  const r = parseSchedule(s.spec.schedule, s.spec.timeZone);
  assert.ok(r.ok);
  return r.schedule;
}

const TICK = new Date("2026-01-15T12:00:00Z");
const TICK_NAME = backupNameFor("nightly", TICK);
const DUE = { lastScheduleTime: "2026-01-15T11:00:00Z" };

test("concurrency: Forbid / Replace / Allow with a running backup of the schedule", () => {
  const running = backup("nightly-20260115-1100", "Running", { scheduled: "2026-01-15T11:00:00Z" });
  const rows: Array<{ policy: "Forbid" | "Replace" | "Allow"; create: boolean; deleteActive: string[]; blockedBy: string[]; records: boolean }> = [
    { policy: "Forbid", create: false, deleteActive: [], blockedBy: ["nightly-20260115-1100"], records: false },
    { policy: "Replace", create: true, deleteActive: ["nightly-20260115-1100"], blockedBy: [], records: true },
    { policy: "Allow", create: true, deleteActive: [], blockedBy: [], records: true },
  ];
  for (const row of rows) {
    const s = schedule({ concurrencyPolicy: row.policy }, DUE);
    const plan = planTick(s, parsed(s), tickBackups([running]), NOW);
    assert.equal(plan.create !== undefined, row.create, row.policy);
    assert.deepEqual(plan.deleteActive, row.deleteActive, row.policy);
    assert.deepEqual(plan.blockedBy, row.blockedBy, row.policy);
    // Forbid records nothing, so the tick runs when the backup ends (if still within the deadline).
    assert.equal(plan.recordLastScheduleTime?.toISOString(), row.records ? TICK.toISOString() : undefined, row.policy);
    assert.equal(plan.decision.requeueAt.toISOString(), "2026-01-15T13:00:00.000Z", row.policy);
  }
  // Default policy is Forbid; finished, pending-deletion and foreign backups do not hold a tick back.
  const s = schedule({}, DUE);
  const others = [backup("a", "Succeeded"), backup("b", "Failed"), backup("c", "Running", { deleting: true }), backup("d", "Running", { owner: OTHER_UID })];
  assert.ok(planTick(s, parsed(s), tickBackups(others), NOW).create);
  assert.equal(planTick(s, parsed(s), tickBackups([backup("e", undefined)]), NOW).create, undefined, "a backup without status yet is Pending, so active");
});

test("the backup of a tick: deterministic name, owner reference, label, annotation, spec copied", () => {
  const s = schedule({ deletionPolicy: "Delete", backupLabels: { team: "search" }, job: { ttlSecondsAfterFinished: 60 } }, DUE);
  const b = planTick(s, parsed(s), tickBackups([]), NOW).create;
  assert.ok(b);
  assert.equal(b.metadata?.name, "nightly-20260115-1200");
  assert.deepEqual(b.metadata?.ownerReferences, [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: "nightly", uid: UID, controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(b.metadata?.labels, { team: "search", [SCHEDULE_LABEL]: "nightly" });
  assert.deepEqual(b.metadata?.annotations, { [SCHEDULED_TIME_ANNOTATION]: "2026-01-15T12:00:00Z" });
  assert.deepEqual(b.spec, { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, deletionPolicy: "Delete", job: { ttlSecondsAfterFinished: 60 } });
});

test("ticks: not due, due, missed runs after downtime, suspend, startingDeadlineSeconds", () => {
  const rows: Array<{ name: string; s: ScheduleObject; now?: Date; want: { create?: string; record?: string; missed?: RegExp; reason: string } }> = [
    { name: "new schedule before its first tick", s: schedule({}, {}, "2026-01-15T12:00:10Z"), want: { reason: "NotDue" } },
    { name: "new schedule at its first tick", s: schedule({}, {}, "2026-01-15T11:59:00Z"), want: { reason: "Due", create: TICK_NAME, record: "2026-01-15T12:00:00.000Z" } },
    { name: "tick already acted on", s: schedule({}, { lastScheduleTime: "2026-01-15T12:00:00Z" }), want: { reason: "NotDue" } },
    {
      name: "down for 5 hours: one catch-up for the latest tick, 4 missed, one Warning",
      s: schedule({}, { lastScheduleTime: "2026-01-15T07:00:00Z" }),
      want: { reason: "Due", create: TICK_NAME, record: "2026-01-15T12:00:00.000Z", missed: /^missed 4 runs .*one catch-up backup for 2026-01-15T12:00:00\.000Z/ },
    },
    {
      name: "one tick missed: still reported",
      s: schedule({}, { lastScheduleTime: "2026-01-15T10:00:00Z" }),
      want: { reason: "Due", create: TICK_NAME, record: "2026-01-15T12:00:00.000Z", missed: /^missed 1 run \(/ },
    },
    { name: "suspended: nothing, nothing missed", s: schedule({ suspend: true }, { lastScheduleTime: "2026-01-15T07:00:00Z" }), want: { reason: "Suspended" } },
    { name: "within startingDeadlineSeconds", s: schedule({ startingDeadlineSeconds: 60 }, DUE), want: { reason: "Due", create: TICK_NAME, record: "2026-01-15T12:00:00.000Z" } },
    {
      name: "past startingDeadlineSeconds: nothing created, the tick recorded so the miss is reported once",
      s: schedule({ startingDeadlineSeconds: 10 }, DUE),
      want: { reason: "MissedDeadline", record: "2026-01-15T12:00:00.000Z", missed: /^missed 1 run: the latest, 2026-01-15T12:00:00\.000Z, is older than startingDeadlineSeconds/ },
    },
    {
      name: "resumed after suspend past the deadline: all missed",
      s: schedule({ startingDeadlineSeconds: 10 }, { lastScheduleTime: "2026-01-15T07:00:00Z" }),
      want: { reason: "MissedDeadline", record: "2026-01-15T12:00:00.000Z", missed: /^missed 5 runs/ },
    },
  ];
  for (const row of rows) {
    const plan = planTick(row.s, parsed(row.s), tickBackups([]), row.now ?? NOW);
    assert.equal(plan.decision.reason, row.want.reason, row.name);
    assert.equal(plan.create?.metadata?.name, row.want.create, row.name);
    assert.equal(plan.recordLastScheduleTime?.toISOString(), row.want.record, row.name);
    if (row.want.missed) assert.match(plan.missedRuns ?? "", row.want.missed, row.name);
    else assert.equal(plan.missedRuns, undefined, row.name);
    assert.equal(plan.decision.requeueAt.toISOString(), "2026-01-15T13:00:00.000Z", row.name);
  }
});

test("AlreadyExists means done: ours is adopted, a foreign one is skipped; both record the tick", () => {
  const s = schedule({ concurrencyPolicy: "Forbid" }, DUE);
  // Ours, still running (an earlier reconcile created it and lost its status write): adopt, never "blocked by itself".
  const ours = planTick(s, parsed(s), tickBackups([backup(TICK_NAME, "Running")]), NOW);
  assert.equal(ours.adopt, TICK_NAME);
  assert.equal(ours.create, undefined);
  assert.deepEqual(ours.blockedBy, []);
  assert.equal(ours.recordLastScheduleTime?.toISOString(), TICK.toISOString());
  for (const owner of [OTHER_UID, "none"]) {
    const foreign = planTick(s, parsed(s), tickBackups([backup(TICK_NAME, "Succeeded", { owner })]), NOW);
    assert.equal(foreign.foreign, TICK_NAME, owner);
    assert.equal(foreign.adopt, undefined);
    assert.equal(foreign.create, undefined);
    assert.equal(foreign.recordLastScheduleTime?.toISOString(), TICK.toISOString());
  }
});

test("spec problems name the field and say what to fix", () => {
  const rows: Array<[Partial<QdrantBackupScheduleSpec>, RegExp]> = [
    [{ schedule: "61 * * * *" }, /^spec\.schedule: "61 \* \* \* \*" is not a valid schedule: .*use 5 fields/],
    [{ schedule: "0 2 * * * *" }, /^spec\.schedule: .*it has 6 fields, not 5 \(seconds are not supported\)/],
    [{ timeZone: "Mars/Olympus" }, /^spec\.timeZone: unknown time zone "Mars\/Olympus": use an IANA name/],
    [{ retention: { maxAge: "0d" } }, /^spec\.retention\.maxAge: must be more than zero/],
    [{ concurrencyPolicy: "Sometimes" as "Allow" }, /spec\.concurrencyPolicy/],
    // What the apiserver would refuse in each tick's QdrantBackup or its Job, by our field.
    [{ backupLabels: { team: "x".repeat(64) } }, /^spec\.backupLabels\["team"\]: a label value must be no more than 63 characters \(it has 64\)$/],
    [{ backupLabels: { "bad key": "v" } }, /^spec\.backupLabels\["bad key"\]: invalid key: /],
    [{ job: { resources: { limits: { memory: "256Mi" }, requests: { memory: "1Gi" } } } }, /^spec\.job\.resources\.limits\.memory: the limit 256Mi is below the request 1Gi/],
    [{ job: { podLabels: { team: "x".repeat(64) } } }, /^spec\.job\.podLabels\["team"\]: a label value must be no more than 63 characters/],
  ];
  for (const [spec, want] of rows) {
    const r = checkScheduleSpec(schedule(spec));
    assert.equal(r.ok, false, JSON.stringify(spec));
    if (!r.ok) {
      assert.equal(r.reason, "InvalidSpec");
      assert.match(r.message, want);
    }
  }
  assert.ok(checkScheduleSpec(schedule({ timeZone: "Europe/Berlin", retention: { maxAge: "30d" } })).ok);
  assert.ok(checkScheduleSpec(schedule({ backupLabels: { team: "search", "example.com/tier": "" }, job: { resources: { limits: { memory: "1Gi" }, requests: { memory: "1024Mi" } } } })).ok);
});

test("childRefused: Accepted=False/InvalidSpec at the current generation only", () => {
  const accepted = (status: "True" | "False", reason: string, observedGeneration: number) => ({ conditions: [{ type: "Accepted", status, reason, message: "m", lastTransitionTime: "2026-01-15T10:00:00Z", observedGeneration }] });
  const rows: Array<[name: string, status: ScheduleObject["status"], want: boolean]> = [
    ["refused at this generation", accepted("False", "InvalidSpec", 1), true],
    ["refused at an older generation (the spec changed since)", accepted("False", "InvalidSpec", 0), false],
    ["accepted", accepted("True", "Validated", 1), false],
    ["no conditions yet", {}, false],
  ];
  for (const [name, status, want] of rows) assert.equal(childRefused(schedule({}, status)), want, name);
});

test("status summary: active, lastSuccessfulTime, history newest first and capped", () => {
  const owned: ScheduledBackupObject[] = [];
  for (let h = 0; h < 12; h++) {
    const t = new Date(TICK.getTime() - h * HOUR).toISOString();
    owned.push(backup(`b${String(h).padStart(2, "0")}`, h === 0 ? "Running" : h === 3 ? "Failed" : "Succeeded", { scheduled: t, start: t, end: h === 0 ? undefined : new Date(Date.parse(t) + 60_000).toISOString() }));
  }
  const sum = summarizeBackups(owned.reverse(), 10);
  assert.deepEqual(sum.active, ["b00"]);
  assert.equal(sum.lastSuccessfulTime, "2026-01-15T11:01:00.000Z");
  assert.equal(sum.history.length, 10);
  assert.deepEqual(
    sum.history.map((h) => h.name),
    ["b00", "b01", "b02", "b03", "b04", "b05", "b06", "b07", "b08", "b09"],
  );
  assert.deepEqual(sum.history[3], { name: "b03", phase: "Failed", scheduledTime: "2026-01-15T09:00:00.000Z", completionTime: "2026-01-15T09:01:00.000Z" });
});

/** 30 backups over the year before NOW (denser recently), some failed, one running, the newest good one known. */
function yearOfBackups(): ScheduledBackupObject[] {
  const out: ScheduledBackupObject[] = [];
  for (let i = 0; i < 30; i++) {
    const start = new Date(NOW.getTime() - Math.round(365 * DAY * (i / 29) ** 2) - 2 * HOUR).toISOString();
    const end = new Date(Date.parse(start) + 5 * 60_000).toISOString();
    out.push(backup(`y${String(i).padStart(2, "0")}`, i === 0 ? "Running" : i % 7 === 3 ? "Failed" : "Succeeded", { start, end, scheduled: start }));
  }
  return out;
}

test("retention over 30 backups across a year: the newest good, running and protected backups survive every policy", () => {
  const backups = yearOfBackups();
  const newestGood = "y01";
  const protectedName = "y20";
  const restores: RestoreObject[] = [{ metadata: { name: "r", namespace: "prod" }, spec: { source: { backupRef: { name: protectedName } } } }];
  const policies: Array<Retention | undefined> = [
    undefined,
    { keepLast: 1 },
    { keepDaily: 1 },
    { keepWeekly: 2 },
    { keepMonthly: 1 },
    { keepYearly: 1 },
    { maxAge: "1s" },
    { maxAge: "1s", failedBackupsToKeep: 0 },
    { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2, maxAge: "90d" },
  ];
  for (const retention of policies) {
    for (const timeZone of [undefined, "Europe/Berlin", "Pacific/Kiritimati"]) {
      const s = schedule({ ...(retention ? { retention } : {}), ...(timeZone ? { timeZone } : {}) });
      const plan = planScheduleRetention(s, backups, restores, NOW);
      const pruned = new Set(plan.prune.map((p) => p.name));
      const label = `${JSON.stringify(retention)} ${timeZone ?? "UTC"}`;
      assert.ok(!pruned.has(newestGood), `newest good kept: ${label}`);
      assert.ok(!pruned.has("y00"), `running kept: ${label}`);
      assert.ok(!pruned.has(protectedName), `protected kept: ${label}`);
      assert.equal(plan.wouldPrune, undefined);
      if (retention?.maxAge === "1s") assert.ok(pruned.size >= 20, `maxAge 1s prunes most: ${label} (${pruned.size})`);
    }
  }
  // keepLast 1: everything but the newest good, the running one, the protected one and 3 newest failed.
  const plan = planScheduleRetention(schedule({ retention: { keepLast: 1 } }), backups, restores, NOW);
  const kept = backups.map((b) => b.metadata?.name ?? "").filter((n) => !plan.prune.some((p) => p.name === n));
  assert.deepEqual(kept.sort(), ["y00", "y01", "y03", "y10", "y17", "y20"]);
});

test("retention dryRun reports wouldPrune and prunes nothing; backups being deleted are left out", () => {
  const backups = yearOfBackups();
  const real = planScheduleRetention(schedule({ retention: { keepLast: 2 } }), backups, [], NOW);
  const dry = planScheduleRetention(schedule({ retention: { keepLast: 2, dryRun: true } }), backups, [], NOW);
  assert.deepEqual(dry.prune, []);
  assert.deepEqual(dry.wouldPrune, real.prune.map((p) => p.name));
  assert.ok(real.prune.length > 20);
  const deleting = [backup("old", "Succeeded", { start: "2025-01-01T00:00:00Z", deleting: true }), backup("new", "Succeeded", { start: "2026-01-15T00:00:00Z" })];
  assert.deepEqual(planScheduleRetention(schedule({ retention: { keepLast: 1 } }), deleting, [], NOW).prune, []);
});
