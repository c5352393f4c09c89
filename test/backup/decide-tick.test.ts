/** decideTick: CronJob's tick rules under an injected clock — catch-up, deadlines, suspend, no floods. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupNameFor } from "../../src/backup/schedule/backup-name.ts";
import { decideTick, MAX_COUNTED_MISSES, type TickDecision, type TickInput } from "../../src/backup/schedule/decide-tick.ts";
import { nextScheduleTime, parseSchedule, type ParsedSchedule } from "../../src/backup/schedule/parse-schedule.ts";

function parsed(schedule: string, zone?: string): ParsedSchedule {
  const r = parseSchedule(schedule, zone);
  if (!r.ok) throw new Error(r.problem.message);
  return r.schedule;
}

const at = (iso: string) => new Date(iso);
const MIN = 60_000;
const hourly = parsed("0 * * * *");
const minutely = parsed("* * * * *");

interface Row {
  name: string;
  input: Omit<TickInput, "parsed"> & { parsed?: ParsedSchedule };
  want: { action: TickDecision["action"]; reason: TickDecision["reason"]; scheduledTime?: string; missedCount: number; lowerBound?: boolean; requeueAt: string };
}

const created = at("2026-01-15T10:30:00Z");
const T0 = at("2026-01-01T00:00:00Z");
const plus = (base: Date, minutes: number, ms = 0) => new Date(base.getTime() + minutes * MIN + ms);

const ROWS: Row[] = [
  {
    name: "new schedule before its first tick",
    input: { now: at("2026-01-15T10:59:59.999Z"), creationTime: created },
    want: { action: "none", reason: "NotDue", missedCount: 0, requeueAt: "2026-01-15T11:00:00.000Z" },
  },
  {
    name: "new schedule exactly at its first tick",
    input: { now: at("2026-01-15T11:00:00Z"), creationTime: created },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T11:00:00.000Z", missedCount: 0, requeueAt: "2026-01-15T12:00:00.000Z" },
  },
  {
    name: "a tick at the creation instant belongs to the past",
    input: { now: at("2026-01-15T11:30:00Z"), creationTime: at("2026-01-15T11:00:00Z") },
    want: { action: "none", reason: "NotDue", missedCount: 0, requeueAt: "2026-01-15T12:00:00.000Z" },
  },
  {
    name: "on time, a few seconds late",
    input: { now: at("2026-01-15T12:00:05Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T12:00:00.000Z", missedCount: 0, requeueAt: "2026-01-15T13:00:00.000Z" },
  },
  {
    name: "the tick already acted on is not acted on again",
    input: { now: at("2026-01-15T12:00:05Z"), lastScheduleTime: at("2026-01-15T12:00:00Z"), creationTime: created },
    want: { action: "none", reason: "NotDue", missedCount: 0, requeueAt: "2026-01-15T13:00:00.000Z" },
  },
  {
    name: "after 5 hours down: one catch-up run for the latest tick, 4 missed",
    input: { now: at("2026-01-15T16:20:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T16:00:00.000Z", missedCount: 4, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "latest tick older than startingDeadlineSeconds: nothing created, all 5 missed",
    input: { now: at("2026-01-15T16:20:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created, startingDeadlineSeconds: 600 },
    want: { action: "none", reason: "MissedDeadline", scheduledTime: "2026-01-15T16:00:00.000Z", missedCount: 5, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "late by exactly the deadline is still on time (as CronJob)",
    input: { now: at("2026-01-15T16:20:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created, startingDeadlineSeconds: 1200 },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T16:00:00.000Z", missedCount: 4, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "late by one millisecond more than the deadline",
    input: { now: at("2026-01-15T16:20:00.001Z"), lastScheduleTime: at("2026-01-15T15:00:00Z"), creationTime: created, startingDeadlineSeconds: 1200 },
    want: { action: "none", reason: "MissedDeadline", scheduledTime: "2026-01-15T16:00:00.000Z", missedCount: 1, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "a deadline does not matter when the latest tick is within it, however old the others",
    input: { now: at("2026-01-15T16:00:30Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created, startingDeadlineSeconds: 60 },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T16:00:00.000Z", missedCount: 4, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "suspended: nothing, no misses counted, next tick still reported",
    input: { now: at("2026-01-15T16:20:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created, suspend: true },
    want: { action: "none", reason: "Suspended", missedCount: 0, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "suspend: false behaves as unset",
    input: { now: at("2026-01-15T12:00:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created, suspend: false },
    want: { action: "create", reason: "Due", scheduledTime: "2026-01-15T12:00:00.000Z", missedCount: 0, requeueAt: "2026-01-15T13:00:00.000Z" },
  },
  {
    name: "clock went back behind lastScheduleTime: nothing, requeue after the recorded tick",
    input: { now: at("2026-01-15T15:30:00Z"), lastScheduleTime: at("2026-01-15T16:00:00Z"), creationTime: created },
    want: { action: "none", reason: "NotDue", missedCount: 0, requeueAt: "2026-01-15T17:00:00.000Z" },
  },
  {
    name: "time zone: Berlin 02:30 on the spring-forward day runs at 03:00 CEST",
    input: { parsed: parsed("30 2 * * *", "Europe/Berlin"), now: at("2026-03-29T01:00:10Z"), lastScheduleTime: at("2026-03-28T01:30:00Z"), creationTime: T0 },
    want: { action: "create", reason: "Due", scheduledTime: "2026-03-29T01:00:00.000Z", missedCount: 0, requeueAt: "2026-03-30T00:30:00.000Z" },
  },
  {
    name: "exactly MAX_COUNTED_MISSES unmet ticks: exact count",
    input: { parsed: minutely, now: plus(T0, MAX_COUNTED_MISSES, 30_000), lastScheduleTime: T0, creationTime: T0 },
    want: { action: "create", reason: "Due", scheduledTime: plus(T0, MAX_COUNTED_MISSES).toISOString(), missedCount: MAX_COUNTED_MISSES - 1, lowerBound: false, requeueAt: plus(T0, MAX_COUNTED_MISSES + 1).toISOString() },
  },
  {
    name: "one more: MAX_COUNTED_MISSES missed, still exact",
    input: { parsed: minutely, now: plus(T0, MAX_COUNTED_MISSES + 1), lastScheduleTime: T0, creationTime: T0 },
    want: { action: "create", reason: "Due", scheduledTime: plus(T0, MAX_COUNTED_MISSES + 1).toISOString(), missedCount: MAX_COUNTED_MISSES, lowerBound: false, requeueAt: plus(T0, MAX_COUNTED_MISSES + 2).toISOString() },
  },
  {
    name: "beyond the count: a lower bound, and still exactly the latest tick",
    input: { parsed: minutely, now: plus(T0, MAX_COUNTED_MISSES + 2, 59_999), lastScheduleTime: T0, creationTime: T0 },
    want: { action: "create", reason: "Due", scheduledTime: plus(T0, MAX_COUNTED_MISSES + 2).toISOString(), missedCount: MAX_COUNTED_MISSES, lowerBound: true, requeueAt: plus(T0, MAX_COUNTED_MISSES + 3).toISOString() },
  },
  {
    name: "a year of minutely ticks missed: the latest one, found without walking the year",
    input: { parsed: minutely, now: at("2027-01-01T00:00:30Z"), lastScheduleTime: T0, creationTime: T0 },
    want: { action: "create", reason: "Due", scheduledTime: "2027-01-01T00:00:00.000Z", missedCount: MAX_COUNTED_MISSES, lowerBound: true, requeueAt: "2027-01-01T00:01:00.000Z" },
  },
  {
    name: "a year missed with a deadline: nothing, the latest tick recorded",
    input: { parsed: minutely, now: at("2027-01-01T00:00:30Z"), lastScheduleTime: T0, creationTime: T0, startingDeadlineSeconds: 10 },
    want: { action: "none", reason: "MissedDeadline", scheduledTime: "2027-01-01T00:00:00.000Z", missedCount: MAX_COUNTED_MISSES, lowerBound: true, requeueAt: "2027-01-01T00:01:00.000Z" },
  },
];

for (const row of ROWS) {
  test(`decideTick: ${row.name}`, () => {
    const d = decideTick({ parsed: hourly, ...row.input });
    assert.equal(d.action, row.want.action);
    assert.equal(d.reason, row.want.reason);
    assert.equal(d.scheduledTime?.toISOString(), row.want.scheduledTime);
    assert.equal(d.missedCount, row.want.missedCount);
    assert.equal(d.missedCountIsLowerBound, row.want.lowerBound ?? false);
    assert.equal(d.requeueAt.toISOString(), row.want.requeueAt);
  });
}

/** Every tick in (since, now], one by one: the reference the decision must agree with. */
function bruteForce(p: ParsedSchedule, since: Date, now: Date): Date[] {
  const ticks: Date[] = [];
  for (let t = nextScheduleTime(p, since); t <= now; t = nextScheduleTime(p, t)) ticks.push(t);
  return ticks;
}

test("decideTick agrees with enumerating every tick, across irregular schedules, zones and long gaps", () => {
  const schedules = [
    parsed("*/7 9-17 * * 1-5"),
    parsed("30 2 * * *", "Europe/Berlin"),
    parsed("*/30 * * * *", "Europe/Berlin"),
    parsed("15 */5 1,15 * *", "America/Sao_Paulo"),
    parsed("0 0 29 2 *"),
    parsed("* 0-3 * * SUN", "Asia/Kolkata"),
    minutely,
  ];
  // A fixed-seed generator: the same cases on every run.
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const CASES_PER_SCHEDULE = 16;
  let checked = 0;
  let searched = 0;
  for (const p of schedules) {
    for (let i = 0; i < CASES_PER_SCHEDULE; i++) {
      const since = new Date(Date.UTC(2025, 0, 1) + Math.floor(rand() * 365 * 86_400_000));
      // Gaps from a second to 45 days (log-uniform), so both the exact count and the binary search run.
      const gap = Math.floor(Math.exp(rand() * Math.log(45 * 86_400)) * 1000);
      const now = new Date(since.getTime() + gap);
      const ticks = bruteForce(p, since, now);
      const d = decideTick({ parsed: p, now, lastScheduleTime: since, creationTime: T0 });
      const latest = ticks.at(-1);
      const label = `${p.expression} (${p.timeZone}) since ${since.toISOString()} now ${now.toISOString()}`;
      assert.equal(d.scheduledTime?.toISOString(), latest?.toISOString(), label);
      assert.equal(d.action, latest === undefined ? "none" : "create", label);
      const missed = Math.max(0, ticks.length - 1);
      assert.equal(d.missedCount, Math.min(missed, MAX_COUNTED_MISSES), label);
      assert.equal(d.missedCountIsLowerBound, missed > MAX_COUNTED_MISSES, label);
      if (missed > MAX_COUNTED_MISSES) searched++;
      assert.equal(d.requeueAt.toISOString(), nextScheduleTime(p, now).toISOString(), label);
      checked++;
    }
  }
  assert.equal(checked, schedules.length * CASES_PER_SCHEDULE);
  assert.ok(searched > 5, `only ${searched} cases went past the exact count`);
});

test("a controller acting on the decisions never floods, whatever the downtime", () => {
  // The reconcile loop in miniature: act, record scheduledTime as lastScheduleTime, requeue at requeueAt.
  const created: string[] = [];
  const missedEvents: number[] = [];
  let last: Date | undefined;
  const reconcile = (now: Date) => {
    const d = decideTick({ parsed: hourly, now, creationTime: at("2026-01-15T00:30:00Z"), ...(last ? { lastScheduleTime: last } : {}) });
    if (d.action === "create" && d.scheduledTime) created.push(backupNameFor("nightly", d.scheduledTime));
    if (d.scheduledTime) last = d.scheduledTime;
    if (d.missedCount > 0) missedEvents.push(d.missedCount);
    return d;
  };
  // Running normally from 01:00 to 03:00, reconciled at every requeue and on unrelated events.
  let d = reconcile(at("2026-01-15T01:00:00Z"));
  reconcile(at("2026-01-15T01:00:00.500Z"));
  reconcile(at("2026-01-15T01:17:00Z"));
  d = reconcile(d.requeueAt);
  assert.equal(reconcile(d.requeueAt).requeueAt.toISOString(), "2026-01-15T04:00:00.000Z");
  assert.deepEqual(created, ["nightly-20260115-0100", "nightly-20260115-0200", "nightly-20260115-0300"]);
  // Down from 03:10 until 09:42, then many reconciles at once (a resync after restart).
  for (let i = 0; i < 20; i++) reconcile(new Date(at("2026-01-15T09:42:00Z").getTime() + i * 1000));
  assert.deepEqual(created.slice(3), ["nightly-20260115-0900"]);
  assert.deepEqual(missedEvents, [5], "one Event: 04:00 to 08:00 were missed");
  assert.equal(reconcile(at("2026-01-15T10:00:00Z")).requeueAt.toISOString(), "2026-01-15T11:00:00.000Z");
  assert.deepEqual(created.slice(4), ["nightly-20260115-1000"]);
});

test("two controllers deciding the same tick create the same name (the name is the lock)", () => {
  const input = { parsed: hourly, now: at("2026-01-15T16:20:00Z"), lastScheduleTime: at("2026-01-15T11:00:00Z"), creationTime: created };
  const a = decideTick(input);
  const b = decideTick({ ...input, now: at("2026-01-15T16:59:59Z") });
  assert.ok(a.scheduledTime && b.scheduledTime);
  assert.equal(backupNameFor("s", a.scheduledTime), backupNameFor("s", b.scheduledTime));
});
