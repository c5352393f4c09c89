/** Retention periods: calendar buckets in the schedule's zone, ISO weeks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isoWeek, periodKey, type PeriodKind } from "../../src/backup/retention/periods.ts";

test("ISO weeks, including the years whose first days belong to the previous week-year", () => {
  const cases: Array<[[number, number, number], { year: number; week: number }]> = [
    [[2026, 1, 1], { year: 2026, week: 1 }], // a Thursday
    [[2025, 12, 29], { year: 2026, week: 1 }], // the Monday of that week
    [[2025, 12, 28], { year: 2025, week: 52 }], // the Sunday before
    [[2027, 1, 1], { year: 2026, week: 53 }], // a Friday: 2026 has 53 weeks
    [[2027, 1, 4], { year: 2027, week: 1 }],
    [[2021, 1, 3], { year: 2020, week: 53 }],
    [[2024, 12, 30], { year: 2025, week: 1 }],
    [[2026, 6, 15], { year: 2026, week: 25 }],
    [[2028, 2, 29], { year: 2028, week: 9 }],
  ];
  for (const [[y, m, d], expected] of cases) assert.deepEqual(isoWeek(y, m, d), expected, `${y}-${m}-${d}`);
});

test("period keys depend on the time zone", () => {
  const cases: Array<[PeriodKind, string, string, string]> = [
    ["daily", "2026-01-14T23:30:00Z", "UTC", "2026-01-14"],
    ["daily", "2026-01-14T23:30:00Z", "Europe/Berlin", "2026-01-15"],
    ["daily", "2026-01-15T03:00:00Z", "America/Los_Angeles", "2026-01-14"],
    ["hourly", "2026-01-15T02:59:59Z", "UTC", "2026-01-15T02+00:00"],
    ["hourly", "2026-01-15T02:30:00Z", "Asia/Kolkata", "2026-01-15T08+05:30"],
    // The two 02:xx hours of the DST fall-back in Berlin are two hours.
    ["hourly", "2026-10-25T00:30:00Z", "Europe/Berlin", "2026-10-25T02+02:00"],
    ["hourly", "2026-10-25T01:30:00Z", "Europe/Berlin", "2026-10-25T02+01:00"],
    ["weekly", "2026-01-04T23:30:00Z", "UTC", "2026-W01"],
    ["weekly", "2026-01-04T23:30:00Z", "Europe/Berlin", "2026-W02"],
    ["weekly", "2027-01-01T12:00:00Z", "UTC", "2026-W53"],
    ["monthly", "2026-01-31T23:30:00Z", "UTC", "2026-01"],
    ["monthly", "2026-01-31T23:30:00Z", "Europe/Berlin", "2026-02"],
    ["yearly", "2026-12-31T23:30:00Z", "UTC", "2026"],
    ["yearly", "2026-12-31T23:30:00Z", "Asia/Tokyo", "2027"],
  ];
  for (const [kind, iso, zone, expected] of cases) assert.equal(periodKey(kind, new Date(iso), zone), expected, `${kind} ${iso} ${zone}`);
});
