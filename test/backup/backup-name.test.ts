/** backupNameFor: deterministic, DNS-1123 label, ≤ 63, unique per schedule and tick. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupNameFor, MAX_NAME_LENGTH, scheduledTimeFromName } from "../../src/backup/schedule/backup-name.ts";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const tick = new Date("2026-01-15T02:00:00Z");
const long = (n: number, ch = "a") => ch.repeat(n);

test("names for a tick", () => {
  const cases: Array<[string, Date, string | RegExp]> = [
    ["nightly", tick, "nightly-20260115-0200"],
    ["nightly", new Date("2026-01-15T02:00:59.999Z"), "nightly-20260115-0200"],
    ["nightly", new Date("2026-12-31T23:59:00Z"), "nightly-20261231-2359"],
    ["a", tick, "a-20260115-0200"],
    [long(49), tick, `${long(49)}-20260115-0200`],
    // Over 49 characters: 40 kept, a hash of the full name, the stamp.
    [long(50), tick, /^a{40}-[0-9a-f]{8}-20260115-0200$/],
    [long(253), tick, /^a{40}-[0-9a-f]{8}-20260115-0200$/],
    // Dots are fine in a subdomain but not in a label.
    ["prod.qdrant", tick, /^prod-qdrant-[0-9a-f]{8}-20260115-0200$/],
    // A cut that ends on a dash drops the dash.
    [`${long(39)}-${long(20, "b")}`, tick, /^a{39}-[0-9a-f]{8}-20260115-0200$/],
  ];
  for (const [schedule, time, expected] of cases) {
    const name = backupNameFor(schedule, time);
    if (typeof expected === "string") assert.equal(name, expected);
    else assert.match(name, expected);
    assert.ok(name.length <= MAX_NAME_LENGTH, `${name} is ${name.length} long`);
    assert.match(name, LABEL);
  }
});

test("the same schedule and tick always give the same name; different ones never do", () => {
  const schedules = ["nightly", "hourly", long(50), `${long(50)}x`, `${long(40)}-b${long(20)}`, `${long(40)}-c${long(20)}`, "prod.qdrant", "prod-qdrant"];
  const ticks = [tick, new Date("2026-01-15T02:01:00Z"), new Date("2027-01-15T02:00:00Z")];
  const seen = new Map<string, string>();
  for (const s of schedules) {
    for (const t of ticks) {
      const name = backupNameFor(s, t);
      assert.equal(backupNameFor(s, new Date(t.getTime())), name);
      const key = `${s}@${t.toISOString()}`;
      assert.equal(seen.get(name), undefined, `${name} for ${key} and ${seen.get(name)}`);
      seen.set(name, key);
    }
  }
  assert.equal(seen.size, schedules.length * ticks.length);
});

test("the two ticks of a repeated local hour (DST fall-back) get distinct names", () => {
  // 02:30 Europe/Berlin happens at 00:30Z and at 01:30Z on 2026-10-25.
  assert.notEqual(backupNameFor("s", new Date("2026-10-25T00:30:00Z")), backupNameFor("s", new Date("2026-10-25T01:30:00Z")));
});

test("the tick can be read back from the name", () => {
  const cases: Array<[string, string | undefined]> = [
    ["nightly-20260115-0200", "2026-01-15T02:00:00.000Z"],
    [backupNameFor(long(80), tick), "2026-01-15T02:00:00.000Z"],
    ["nightly-20260230-0200", undefined],
    ["nightly-20260115-2460", undefined],
    ["nightly", undefined],
    ["manual-backup-now", undefined],
  ];
  for (const [name, expected] of cases) assert.equal(scheduledTimeFromName(name)?.toISOString(), expected, name);
});

test("an invalid date is refused", () => {
  assert.throws(() => backupNameFor("s", new Date(Number.NaN)), /not a valid date/);
});
