/** parseSchedule accepts what the CRD documents and says what to fix for everything else. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { CRON_CACHE_SIZE, cachedCronCount, nextScheduleTime, parseSchedule, type ParsedSchedule } from "../../src/backup/schedule/parse-schedule.ts";

const at = (iso: string) => new Date(iso);

test("accepted schedules and their next tick", () => {
  // [schedule, timeZone, after, expected next tick]
  const cases: Array<[string, string | undefined, string, string]> = [
    ["0 2 * * *", undefined, "2026-01-15T10:00:00Z", "2026-01-16T02:00:00.000Z"],
    ["0 2 * * *", "", "2026-01-15T10:00:00Z", "2026-01-16T02:00:00.000Z"],
    ["0 2 * * *", "Europe/Berlin", "2026-01-15T00:00:00Z", "2026-01-15T01:00:00.000Z"],
    ["0 2 * * *", "America/New_York", "2026-07-15T00:00:00Z", "2026-07-15T06:00:00.000Z"],
    ["*/15 * * * *", undefined, "2026-01-15T10:07:30.250Z", "2026-01-15T10:15:00.000Z"],
    ["0 * * * *", undefined, "2026-01-15T10:00:00Z", "2026-01-15T11:00:00.000Z"],
    ["0 * * * *", undefined, "2026-01-15T09:59:59.999Z", "2026-01-15T10:00:00.000Z"],
    ["@hourly", undefined, "2026-01-15T10:00:00Z", "2026-01-15T11:00:00.000Z"],
    ["@daily", undefined, "2026-01-15T10:00:00Z", "2026-01-16T00:00:00.000Z"],
    ["@midnight", "Asia/Kolkata", "2026-01-15T10:00:00Z", "2026-01-15T18:30:00.000Z"],
    ["@weekly", undefined, "2026-01-15T10:00:00Z", "2026-01-18T00:00:00.000Z"],
    ["@monthly", undefined, "2026-01-15T10:00:00Z", "2026-02-01T00:00:00.000Z"],
    ["@yearly", undefined, "2026-01-15T10:00:00Z", "2027-01-01T00:00:00.000Z"],
    ["@annually", undefined, "2026-01-15T10:00:00Z", "2027-01-01T00:00:00.000Z"],
    ["0 2 * * MON-FRI", undefined, "2026-01-16T03:00:00Z", "2026-01-19T02:00:00.000Z"],
    ["0 2 * * 7", undefined, "2026-01-15T10:00:00Z", "2026-01-18T02:00:00.000Z"],
    // Day-of-month OR day-of-week when both are restricted, as in Vixie cron and CronJob.
    ["0 0 1 * MON", undefined, "2026-01-27T00:00:00Z", "2026-02-01T00:00:00.000Z"],
    ["0 0 29 2 *", undefined, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00.000Z"],
    ["  0   2 * * *  ", undefined, "2026-01-15T10:00:00Z", "2026-01-16T02:00:00.000Z"],
    // DST: 02:30 does not exist in Berlin on 2026-03-29; the fixed-time job runs at 03:00 CEST.
    ["30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00.000Z"],
    // DST: 02:30 happens twice on 2026-10-25; the fixed-time job runs once, at the first.
    ["30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00.000Z"],
  ];
  for (const [schedule, zone, after, expected] of cases) {
    const r = parseSchedule(schedule, zone);
    assert.ok(r.ok, `${schedule} (${zone}): ${r.ok ? "" : r.problem.message}`);
    assert.equal(r.schedule.timeZone, zone === undefined || zone === "" ? "UTC" : zone);
    assert.equal(nextScheduleTime(r.schedule, at(after)).toISOString(), expected, `${schedule} in ${zone ?? "UTC"} after ${after}`);
  }
});

test("an interval schedule runs on both occurrences of a repeated hour", () => {
  const r = parseSchedule("*/30 * * * *", "Europe/Berlin");
  assert.ok(r.ok);
  const ticks: string[] = [];
  let t = at("2026-10-24T23:45:00Z");
  for (let i = 0; i < 5; i++) {
    t = nextScheduleTime(r.schedule, t);
    ticks.push(t.toISOString());
  }
  assert.deepEqual(ticks, ["2026-10-25T00:00:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-25T01:00:00.000Z", "2026-10-25T01:30:00.000Z", "2026-10-25T02:00:00.000Z"]);
});

test("refused schedules name the field and say what to fix", () => {
  // [schedule, timeZone, field, message must match]
  const cases: Array<[string, string | undefined, string, RegExp]> = [
    ["* * * * * *", undefined, "spec.schedule", /6 fields, not 5 \(seconds are not supported\); use 5 fields/],
    ["0 0 0 * * *", undefined, "spec.schedule", /seconds are not supported/],
    ["0 2 * *", undefined, "spec.schedule", /has 4 fields, not 5; use 5 fields \(minute hour day-of-month month day-of-week\), e\.g\. "0 2 \* \* \*"/],
    ["daily", undefined, "spec.schedule", /has 1 field, not 5/],
    ["", undefined, "spec.schedule", /it is empty; use 5 fields/],
    ["   ", undefined, "spec.schedule", /it is empty/],
    ["61 * * * *", undefined, "spec.schedule", /"61 \* \* \* \*" is not a valid schedule: Invalid value for minute: 61; use 5 fields/],
    ["0 24 * * *", undefined, "spec.schedule", /Invalid value for hour: 24/],
    ["0 2 * * 8", undefined, "spec.schedule", /Invalid value for dayOfWeek: 8/],
    ["*/0 * * * *", undefined, "spec.schedule", /illegal stepping: 0/],
    ["5/15 * * * *", undefined, "spec.schedule", /stepping with numeric prefix/],
    ["0 2 * * FOO", undefined, "spec.schedule", /"0 2 \* \* FOO" is not a valid schedule: the day-of-week field "FOO" has characters that are not allowed; use 5 fields/],
    ["0 2 x * *", undefined, "spec.schedule", /the day-of-month field "x" has characters that are not allowed/],
    ["@every 5m", undefined, "spec.schedule", /@every is not supported: write the interval as a step, e\.g\. "\*\/5 \* \* \* \*" for every 5 minutes; use 5 fields .* or one of @hourly, @daily, @weekly, @monthly, @yearly/],
    ["@every", undefined, "spec.schedule", /@every is not supported/],
    ["@everyday", undefined, "spec.schedule", /unknown nickname; use 5 fields .* or one of @hourly, @daily, @weekly, @monthly, @yearly/],
    ["0 0 0 1 1 * 2030 x y z", undefined, "spec.schedule", /it has more than 9 fields, not 5; use 5 fields/],
    ["@reboot", undefined, "spec.schedule", /unknown nickname/],
    ["@DAILY", undefined, "spec.schedule", /unknown nickname/],
    ["TZ=Europe/Berlin 0 2 * * *", undefined, "spec.schedule", /put it in spec\.timeZone/],
    ["CRON_TZ=UTC 0 2 * * *", undefined, "spec.schedule", /put it in spec\.timeZone/],
    ["0 0 30 2 *", undefined, "spec.schedule", /never fires/],
    ["0 0 31 4,6,9,11 *", undefined, "spec.schedule", /never fires/],
    ["0 2 * * *", "Mars/Olympus_Mons", "spec.timeZone", /unknown time zone "Mars\/Olympus_Mons": use an IANA name such as "Europe\/Berlin"/],
    ["0 2 * * *", "+01:00", "spec.timeZone", /unknown time zone "\+01:00"/],
    ["0 2 * * *", "Not A Zone!", "spec.timeZone", /unknown time zone/],
    // A bad zone is reported even when the expression is bad too: one problem at a time, zone first.
    ["61 * * * *", "Nowhere/City", "spec.timeZone", /unknown time zone/],
  ];
  for (const [schedule, zone, field, message] of cases) {
    const r = parseSchedule(schedule, zone);
    assert.equal(r.ok, false, `${JSON.stringify(schedule)} should be refused`);
    if (r.ok) continue;
    assert.equal(r.problem.field, field, schedule);
    assert.match(r.problem.message, message, `${JSON.stringify(schedule)}: ${r.problem.message}`);
  }
});

test("parsed schedules share a bounded set of Crons: 1,000 distinct expressions kept hold a few MiB, and each still ticks right", () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const parse = (i: number): ParsedSchedule => {
    const r = parseSchedule(`${i % 60} ${Math.floor(i / 60) % 24} * * *`, i % 2 === 0 ? "UTC" : "Europe/Berlin");
    assert.ok(r.ok);
    return r.schedule;
  };
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = Array.from({ length: 1000 }, (_, i) => parse(i));
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // A Cron is ~81 KiB (croner's table of 10,000 years): one per schedule would be ~80 MiB here.
  assert.ok(grown < 16 * 2 ** 20, `1,000 parsed schedules hold ${(grown / 2 ** 20).toFixed(1)} MiB`);
  assert.ok(cachedCronCount() <= CRON_CACHE_SIZE, `${cachedCronCount()} Crons cached`);
  // The first ones' Crons were evicted long ago; their ticks are built again, the same.
  assert.equal(nextScheduleTime(kept[0]!, at("2026-01-15T10:00:00Z")).toISOString(), "2026-01-16T00:00:00.000Z");
  assert.equal(nextScheduleTime(kept[61]!, at("2026-01-15T10:00:00Z")).toISOString(), "2026-01-16T00:01:00.000Z", "01:01 Berlin is 00:01 UTC in winter");
  assert.equal(nextScheduleTime(kept[999]!, at("2026-07-15T00:00:00Z")).toISOString(), "2026-07-15T14:39:00.000Z", "16:39 Berlin is 14:39 UTC in summer");
  const again = parse(0);
  assert.deepEqual(again, kept[0], "the same expression parses to the same schedule");
});
