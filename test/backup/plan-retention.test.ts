/** planRetention: grandfather-father-son over successful backups, with its never-prune guarantees. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Retention } from "../../src/api/v1alpha1/backup-schedule.ts";
import { checkRetention, planRetention, type RetentionCandidate, type RetentionPlan } from "../../src/backup/retention/plan-retention.ts";

const NOW = new Date("2026-06-15T12:30:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

const ok = (name: string, startTime: string, extra: Partial<RetentionCandidate> = {}): RetentionCandidate => ({ name, phase: "Succeeded", startTime, completionTime: startTime, ...extra });
const failed = (name: string, startTime: string): RetentionCandidate => ({ name, phase: "Failed", startTime });

interface Row {
  name: string;
  backups: RetentionCandidate[];
  retention: Retention | undefined;
  timeZone?: string;
  want: RetentionPlan;
}

const five = [ok("g1", ago(5 * DAY)), ok("g2", ago(4 * DAY)), ok("g3", ago(3 * DAY)), ok("g4", ago(2 * DAY)), ok("g5", ago(1 * DAY))];

const ROWS: Row[] = [
  {
    name: "no retention at all keeps everything, failed ones included",
    backups: [...five.slice(0, 2), failed("f1", ago(HOUR))],
    retention: undefined,
    want: {
      keep: [
        { name: "f1", reasons: ["no retention rules"] },
        { name: "g2", reasons: ["no retention rules"] },
        { name: "g1", reasons: ["no retention rules"] },
      ],
      prune: [],
    },
  },
  {
    name: "keep counts of 0 are no rules (a typo cannot prune everything)",
    backups: five.slice(0, 2),
    retention: { keepLast: 0, keepDaily: 0, dryRun: true },
    want: { keep: [{ name: "g2", reasons: ["no retention rules"] }, { name: "g1", reasons: ["no retention rules"] }], prune: [] },
  },
  {
    name: "keepLast 2",
    backups: five,
    retention: { keepLast: 2 },
    want: {
      keep: [
        { name: "g5", reasons: ["newest successful", "keepLast #1"] },
        { name: "g4", reasons: ["keepLast #2"] },
      ],
      prune: [
        { name: "g3", reason: "kept by no retention rule" },
        { name: "g2", reason: "kept by no retention rule" },
        { name: "g1", reason: "kept by no retention rule" },
      ],
    },
  },
  {
    name: "a failed backup never pushes a good one out",
    backups: [...five.slice(0, 3), failed("f1", ago(HOUR)), failed("f2", ago(2 * HOUR))],
    retention: { keepLast: 2 },
    want: {
      keep: [
        { name: "f1", reasons: ["failedBackupsToKeep #1"] },
        { name: "f2", reasons: ["failedBackupsToKeep #2"] },
        { name: "g3", reasons: ["newest successful", "keepLast #1"] },
        { name: "g2", reasons: ["keepLast #2"] },
      ],
      prune: [{ name: "g1", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "failed backups beyond failedBackupsToKeep (default 3) are pruned, oldest first",
    backups: [ok("g", ago(10 * DAY)), failed("f1", ago(1 * HOUR)), failed("f2", ago(2 * HOUR)), failed("f3", ago(3 * HOUR)), failed("f4", ago(4 * HOUR)), failed("f5", ago(5 * HOUR))],
    retention: { keepLast: 1 },
    want: {
      keep: [
        { name: "f1", reasons: ["failedBackupsToKeep #1"] },
        { name: "f2", reasons: ["failedBackupsToKeep #2"] },
        { name: "f3", reasons: ["failedBackupsToKeep #3"] },
        { name: "g", reasons: ["newest successful", "keepLast #1"] },
      ],
      prune: [
        { name: "f4", reason: "failed, and older than the 3 newest failed backups kept (failedBackupsToKeep)" },
        { name: "f5", reason: "failed, and older than the 3 newest failed backups kept (failedBackupsToKeep)" },
      ],
    },
  },
  {
    name: "failedBackupsToKeep alone trims failed backups and keeps every successful one",
    backups: [five[0] as RetentionCandidate, failed("f1", ago(1 * HOUR)), failed("f2", ago(2 * HOUR))],
    retention: { failedBackupsToKeep: 1 },
    want: {
      keep: [
        { name: "f1", reasons: ["failedBackupsToKeep #1"] },
        { name: "g1", reasons: ["newest successful", "no retention rules for successful backups"] },
      ],
      prune: [{ name: "f2", reason: "failed, and older than the 1 newest failed backup kept (failedBackupsToKeep)" }],
    },
  },
  {
    name: "failedBackupsToKeep 0 prunes every failed backup",
    backups: [five[0] as RetentionCandidate, failed("f1", ago(1 * HOUR))],
    retention: { keepLast: 5, failedBackupsToKeep: 0 },
    want: {
      keep: [{ name: "g1", reasons: ["newest successful", "keepLast #1"] }],
      prune: [{ name: "f1", reason: "failed, and older than the 0 newest failed backups kept (failedBackupsToKeep)" }],
    },
  },
  {
    name: "maxAge alone: no older than it is kept, the boundary included",
    backups: [ok("d1", ago(DAY)), ok("d29", ago(29 * DAY)), ok("d30", ago(30 * DAY)), ok("d30+1s", ago(30 * DAY + 1000)), ok("d400", ago(400 * DAY))],
    retention: { maxAge: "30d" },
    want: {
      keep: [
        { name: "d1", reasons: ["newest successful", "within maxAge 30d"] },
        { name: "d29", reasons: ["within maxAge 30d"] },
        { name: "d30", reasons: ["within maxAge 30d"] },
      ],
      prune: [
        { name: "d30+1s", reason: "older than maxAge 30d and kept by no keep rule" },
        { name: "d400", reason: "older than maxAge 30d and kept by no keep rule" },
      ],
    },
  },
  {
    name: "maxAge never takes the newest successful backup, however old",
    backups: [ok("old1", ago(90 * DAY)), ok("old2", ago(91 * DAY)), failed("f", ago(HOUR))],
    retention: { maxAge: "1w" },
    want: {
      keep: [
        { name: "f", reasons: ["failedBackupsToKeep #1"] },
        { name: "old1", reasons: ["newest successful"] },
      ],
      prune: [{ name: "old2", reason: "older than maxAge 1w and kept by no keep rule" }],
    },
  },
  {
    name: "maxAge and a keep rule add up: old monthly backups stay",
    backups: [ok("jun", "2026-06-10T02:00:00Z"), ok("may-b", "2026-05-20T02:00:00Z"), ok("may-a", "2026-05-02T02:00:00Z"), ok("apr", "2026-04-15T02:00:00Z"), ok("mar", "2026-03-15T02:00:00Z")],
    retention: { maxAge: "30d", keepMonthly: 3 },
    want: {
      keep: [
        { name: "jun", reasons: ["newest successful", "keepMonthly 2026-06", "within maxAge 30d"] },
        { name: "may-b", reasons: ["keepMonthly 2026-05", "within maxAge 30d"] },
        { name: "apr", reasons: ["keepMonthly 2026-04"] },
      ],
      prune: [
        { name: "may-a", reason: "older than maxAge 30d and kept by no keep rule" },
        { name: "mar", reason: "older than maxAge 30d and kept by no keep rule" },
      ],
    },
  },
  {
    name: "keepDaily: newest of each day, and days without a backup use no slot",
    backups: [
      ok("d1-a", "2026-06-10T02:00:00Z"),
      ok("d1-b", "2026-06-10T14:00:00Z"),
      ok("d3", "2026-06-12T02:00:00Z"),
      ok("d4-a", "2026-06-13T02:00:00Z"),
      ok("d4-b", "2026-06-13T14:00:00Z"),
      ok("d5", "2026-06-14T02:00:00Z"),
    ],
    retention: { keepDaily: 3 },
    want: {
      keep: [
        { name: "d5", reasons: ["newest successful", "keepDaily 2026-06-14"] },
        { name: "d4-b", reasons: ["keepDaily 2026-06-13"] },
        { name: "d3", reasons: ["keepDaily 2026-06-12"] },
      ],
      prune: [
        { name: "d4-a", reason: "kept by no retention rule" },
        { name: "d1-b", reason: "kept by no retention rule" },
        { name: "d1-a", reason: "kept by no retention rule" },
      ],
    },
  },
  {
    name: "days are the schedule's days: in Tokyo these two are the same day",
    // "prev" (a Tokyo day earlier) is the oldest, so "early" is not kept as the oldest backup either.
    backups: [ok("late", "2026-06-14T23:30:00Z"), ok("early", "2026-06-14T16:00:00Z"), ok("prev", "2026-06-13T10:00:00Z")],
    retention: { keepDaily: 2 },
    timeZone: "Asia/Tokyo",
    want: {
      keep: [
        { name: "late", reasons: ["newest successful", "keepDaily 2026-06-15"] },
        { name: "prev", reasons: ["keepDaily 2026-06-13"] },
      ],
      prune: [{ name: "early", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "… and in UTC two days",
    backups: [ok("late", "2026-06-14T23:30:00Z"), ok("early", "2026-06-13T23:00:00Z")],
    retention: { keepDaily: 2 },
    want: {
      keep: [
        { name: "late", reasons: ["newest successful", "keepDaily 2026-06-14"] },
        { name: "early", reasons: ["keepDaily 2026-06-13"] },
      ],
      prune: [],
    },
  },
  {
    name: "weeks are ISO weeks (Monday to Sunday)",
    backups: [ok("mon", "2026-06-15T02:00:00Z"), ok("sun", "2026-06-14T02:00:00Z"), ok("sat", "2026-06-13T02:00:00Z"), ok("prev-sun", "2026-06-07T02:00:00Z")],
    retention: { keepWeekly: 3 },
    want: {
      keep: [
        { name: "mon", reasons: ["newest successful", "keepWeekly 2026-W25"] },
        { name: "sun", reasons: ["keepWeekly 2026-W24"] },
        { name: "prev-sun", reasons: ["keepWeekly 2026-W23"] },
      ],
      prune: [{ name: "sat", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "a young history keeps its first backup: a period rule with a slot left keeps the oldest, as restic ≥ 0.16 does",
    // Two days of backups under keepDaily 7: the newest of each day, and the very first one. A failed
    // backup older still is not "the oldest": only successful backups fill slots.
    backups: [ok("d2-b", "2026-06-14T14:00:00Z"), ok("d2-a", "2026-06-14T02:00:00Z"), ok("d1-b", "2026-06-13T14:00:00Z"), ok("d1-a", "2026-06-13T02:00:00Z"), failed("f0", "2026-06-12T02:00:00Z")],
    retention: { keepDaily: 7, failedBackupsToKeep: 0 },
    want: {
      keep: [
        { name: "d2-b", reasons: ["newest successful", "keepDaily 2026-06-14"] },
        { name: "d1-b", reasons: ["keepDaily 2026-06-13"] },
        { name: "d1-a", reasons: ["keepDaily 2026-06-13 (oldest backup, slots left)"] },
      ],
      prune: [
        { name: "d2-a", reason: "kept by no retention rule" },
        { name: "f0", reason: "failed, and older than the 0 newest failed backups kept (failedBackupsToKeep)" },
      ],
    },
  },
  {
    name: "… the oldest takes a slot, so it is kept only while the rule has one left",
    backups: [ok("d2-b", "2026-06-14T14:00:00Z"), ok("d2-a", "2026-06-14T02:00:00Z"), ok("d1-b", "2026-06-13T14:00:00Z"), ok("d1-a", "2026-06-13T02:00:00Z")],
    retention: { keepDaily: 2 },
    want: {
      keep: [
        { name: "d2-b", reasons: ["newest successful", "keepDaily 2026-06-14"] },
        { name: "d1-b", reasons: ["keepDaily 2026-06-13"] },
      ],
      prune: [
        { name: "d2-a", reason: "kept by no retention rule" },
        { name: "d1-a", reason: "kept by no retention rule" },
      ],
    },
  },
  {
    name: "… each period rule on its own: the one with a slot left keeps the oldest, the full one does not",
    // All in one ISO week (W24) and month: keepDaily 1 is used up by the newest; keepWeekly 3 still has two.
    backups: [ok("sat", "2026-06-13T02:00:00Z"), ok("fri", "2026-06-12T02:00:00Z"), ok("thu", "2026-06-11T02:00:00Z")],
    retention: { keepDaily: 1, keepWeekly: 3 },
    want: {
      keep: [
        { name: "sat", reasons: ["newest successful", "keepDaily 2026-06-13", "keepWeekly 2026-W24"] },
        { name: "thu", reasons: ["keepWeekly 2026-W24 (oldest backup, slots left)"] },
      ],
      prune: [{ name: "fri", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "… and neither keepLast nor maxAge has such a rule: past maxAge the oldest goes",
    backups: [ok("new", ago(DAY)), ok("mid", ago(2 * DAY)), ok("old", ago(40 * DAY))],
    retention: { keepLast: 1, maxAge: "30d" },
    want: {
      keep: [
        { name: "new", reasons: ["newest successful", "keepLast #1", "within maxAge 30d"] },
        { name: "mid", reasons: ["within maxAge 30d"] },
      ],
      prune: [{ name: "old", reason: "older than maxAge 30d and kept by no keep rule" }],
    },
  },
  {
    name: "running, pending and protected backups are never pruned",
    backups: [ok("new", ago(DAY)), ok("restored-from", ago(300 * DAY), { protected: true }), { name: "run", phase: "Running", startTime: ago(400 * DAY) }, { name: "pend", phase: "Pending" }, ok("old", ago(500 * DAY))],
    retention: { keepLast: 1, maxAge: "1d" },
    want: {
      keep: [
        { name: "pend", reasons: ["in progress (Pending)"] },
        { name: "new", reasons: ["newest successful", "keepLast #1", "within maxAge 1d"] },
        { name: "restored-from", reasons: ["protected: named by a QdrantRestore"] },
        { name: "run", reasons: ["in progress (Running)"] },
      ],
      prune: [{ name: "old", reason: "older than maxAge 1d and kept by no keep rule" }],
    },
  },
  {
    name: "a protected failed backup is kept beyond failedBackupsToKeep",
    backups: [failed("f1", ago(HOUR)), { ...failed("f2", ago(2 * HOUR)), protected: true }],
    retention: { keepLast: 1, failedBackupsToKeep: 0 },
    want: { keep: [{ name: "f2", reasons: ["protected: named by a QdrantRestore"] }], prune: [{ name: "f1", reason: "failed, and older than the 0 newest failed backups kept (failedBackupsToKeep)" }] },
  },
  {
    name: "object lock keeps a backup until its retain-until date",
    backups: [ok("new", ago(DAY)), ok("locked", ago(100 * DAY), { lockedUntil: ago(-DAY) }), ok("lock-expired", ago(101 * DAY), { lockedUntil: new Date(NOW.getTime() - 1) })],
    retention: { keepLast: 1 },
    want: {
      keep: [
        { name: "new", reasons: ["newest successful", "keepLast #1"] },
        { name: "locked", reasons: [`object lock until ${ago(-DAY)}`] },
      ],
      prune: [{ name: "lock-expired", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "a successful backup with no time is kept (nothing to judge it by); one with only a completion time is judged by it",
    backups: [{ name: "timeless", phase: "Succeeded" }, { name: "bad-time", phase: "Succeeded", startTime: "not a time" }, { name: "completed", phase: "Succeeded", completionTime: ago(3 * DAY) }, ok("new", ago(DAY))],
    retention: { keepLast: 1 },
    want: {
      keep: [
        { name: "bad-time", reasons: ["no start or completion time to judge it by"] },
        { name: "timeless", reasons: ["no start or completion time to judge it by"] },
        { name: "new", reasons: ["newest successful", "keepLast #1"] },
      ],
      prune: [{ name: "completed", reason: "kept by no retention rule" }],
    },
  },
  {
    name: "the start time decides, not the completion time (hourly backups of varying length)",
    backups: [
      { name: "h11", phase: "Succeeded", startTime: "2026-06-15T11:00:00Z", completionTime: "2026-06-15T11:05:00Z" },
      { name: "h10", phase: "Succeeded", startTime: "2026-06-15T10:00:00Z", completionTime: "2026-06-15T11:02:00Z" },
    ],
    retention: { keepHourly: 2 },
    want: {
      keep: [
        { name: "h11", reasons: ["newest successful", "keepHourly 2026-06-15T11+00:00"] },
        { name: "h10", reasons: ["keepHourly 2026-06-15T10+00:00"] },
      ],
      prune: [],
    },
  },
  {
    name: "equal times are ordered by name",
    backups: [ok("b", ago(DAY)), ok("a", ago(DAY)), ok("c", ago(DAY))],
    retention: { keepLast: 1 },
    want: {
      keep: [{ name: "a", reasons: ["newest successful", "keepLast #1"] }],
      prune: [
        { name: "b", reason: "kept by no retention rule" },
        { name: "c", reason: "kept by no retention rule" },
      ],
    },
  },
];

/** keep and prune only: when the plan changes next is its own table below. */
function keepAndPrune(backups: RetentionCandidate[], retention: Retention | undefined, timeZone?: string): RetentionPlan {
  const { nextChange: _next, ...plan } = planRetention(backups, retention, NOW, timeZone);
  return plan;
}

for (const row of ROWS) {
  test(`planRetention: ${row.name}`, () => {
    assert.deepEqual(keepAndPrune(row.backups, row.retention, row.timeZone), row.want);
    // Input order does not matter.
    assert.deepEqual(keepAndPrune([...row.backups].reverse(), row.retention, row.timeZone), row.want);
  });
}

test("nextChange: the first moment time alone changes the plan, so a caller can wait for it instead of polling", () => {
  const rows: Array<[string, RetentionCandidate[], Retention, string | undefined]> = [
    ["keep rules alone never change with time", five, { keepLast: 2, keepDaily: 3 }, undefined],
    ["maxAge: the oldest backup still within it leaves it first", five, { maxAge: "3d" }, new Date(NOW.getTime() - 3 * DAY + 3 * DAY + 1).toISOString()],
    ["maxAge: backups already past it do not count", [ok("old", ago(40 * DAY)), ok("new", ago(DAY))], { maxAge: "30d" }, new Date(NOW.getTime() + 29 * DAY + 1).toISOString()],
    ["an Object Lock ending sooner wins", [ok("a", ago(DAY), { lockedUntil: new Date(NOW.getTime() + HOUR).toISOString() })], { maxAge: "30d" }, new Date(NOW.getTime() + HOUR + 1).toISOString()],
    ["failed and running backups do not age out by maxAge", [failed("f", ago(HOUR)), { name: "r", phase: "Running", startTime: ago(HOUR) }], { maxAge: "1d" }, undefined],
  ];
  for (const [what, backups, retention, want] of rows) assert.equal(planRetention(backups, retention, NOW).nextChange?.toISOString(), want, what);
  // Planning again at that moment does prune what left maxAge.
  const at = planRetention(five, { maxAge: "3d" }, NOW).nextChange!;
  assert.deepEqual(planRetention(five, { maxAge: "3d" }, at).prune.map((p) => p.name).sort(), ["g1", "g2", "g3"]);
});

test("every backup is either kept or pruned, exactly once", () => {
  for (const row of ROWS) {
    const plan = planRetention(row.backups, row.retention, NOW, row.timeZone);
    const names = [...plan.keep.map((k) => k.name), ...plan.prune.map((p) => p.name)].sort();
    assert.deepEqual(names, row.backups.map((b) => b.name).sort(), row.name);
  }
});

test("days are local days: the day boundary is midnight in the schedule's zone", () => {
  // In Berlin (UTC+1 in January) "early" is 00:30 on the 14th, the same local day as "late" (23:30);
  // in UTC it is 23:30 on the 13th, the same day as "prev".
  const backups = [ok("late", "2026-01-14T22:30:00Z"), ok("early", "2026-01-13T23:30:00Z"), ok("prev", "2026-01-13T22:30:00Z")];
  assert.deepEqual(planRetention(backups, { keepDaily: 2 }, NOW, "Europe/Berlin"), {
    keep: [
      { name: "late", reasons: ["newest successful", "keepDaily 2026-01-14"] },
      { name: "prev", reasons: ["keepDaily 2026-01-13"] },
    ],
    prune: [{ name: "early", reason: "kept by no retention rule" }],
  });
  // keepDaily 2 is used up by "early", so "prev" is not kept as the oldest backup.
  assert.deepEqual(planRetention(backups, { keepDaily: 2 }, NOW, "UTC"), {
    keep: [
      { name: "late", reasons: ["newest successful", "keepDaily 2026-01-14"] },
      { name: "early", reasons: ["keepDaily 2026-01-13"] },
    ],
    prune: [{ name: "prev", reason: "kept by no retention rule" }],
  });
});

test("checkRetention names the field and says what to fix", () => {
  assert.deepEqual(checkRetention(undefined), []);
  assert.deepEqual(checkRetention({ keepDaily: 7, maxAge: "30d" }), []);
  assert.deepEqual(checkRetention({ maxAge: "thirty days" }), [
    { field: "spec.retention.maxAge", message: '"thirty days" is not a duration: write numbers with units s, m, h, d or w, e.g. "90m", "36h", "30d" or "1w2d"' },
  ]);
  assert.deepEqual(checkRetention({ maxAge: "0d" }), [{ field: "spec.retention.maxAge", message: "must be more than zero: 0 would prune every backup but the newest" }]);
});

test("planRetention refuses an invalid maxAge or time zone instead of guessing", () => {
  assert.throws(() => planRetention(five, { maxAge: "30 days" }, NOW), RangeError);
  assert.throws(() => planRetention(five, { keepDaily: 1 }, NOW, "Mars/Base"), RangeError);
});
