/** The pure Object Lock decisions (src/backup/retention/lock-until.ts), as tables with a fixed `now`. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { latestRetainUntil, LOCK_SLACK_MS, lockedUntilMessage, lockRequeueMs, lockVerdict, MAX_LOCK_WAIT_MS, MIN_LOCK_WAIT_MS } from "../../src/backup/retention/lock-until.ts";

const NOW = new Date("2026-12-02T16:00:00Z");
const at = (ms: number) => new Date(NOW.getTime() + ms);

test("lockVerdict: the latest date of every source decides; a date at or before now has passed", () => {
  const cases: Array<[string, Array<Date | string | undefined>, string | undefined]> = [
    ["no date at all", [], undefined],
    ["only undefined", [undefined, undefined], undefined],
    ["an unparsable date is ignored", ["not a date"], undefined],
    ["status in the past", ["2026-12-01T00:00:00Z"], undefined],
    ["exactly now has passed", [NOW], undefined],
    ["a millisecond ahead is locked", [at(1)], at(1).toISOString()],
    ["status ahead", ["2026-12-09T16:00:00Z"], "2026-12-09T16:00:00.000Z"],
    ["S3 extended it past the status: S3's date", ["2026-12-09T16:00:00Z", new Date("2027-01-01T00:00:00Z")], "2027-01-01T00:00:00.000Z"],
    ["status past, S3 ahead: locked by S3", ["2026-11-01T00:00:00Z", at(60_000)], at(60_000).toISOString()],
    ["status ahead, S3 says nothing: locked by the status", [at(60_000), undefined], at(60_000).toISOString()],
  ];
  for (const [name, dates, until] of cases) {
    const v = lockVerdict(dates, NOW);
    assert.deepEqual(v.kind === "Locked" ? v.until.toISOString() : undefined, until, name);
  }
});

test("latestRetainUntil picks the latest parsable date", () => {
  assert.equal(latestRetainUntil(["2026-01-01T00:00:00Z", undefined, new Date("2026-03-01T00:00:00Z"), "x"])?.toISOString(), "2026-03-01T00:00:00.000Z");
  assert.equal(latestRetainUntil([]), undefined);
});

test("lockRequeueMs: at the date plus slack, capped, never a hot loop", () => {
  const cases: Array<[string, Date | undefined, number]> = [
    ["a minute ahead", at(60_000), 60_000 + LOCK_SLACK_MS],
    ["days ahead: the cap", at(7 * 86_400_000), MAX_LOCK_WAIT_MS],
    ["just passed (S3's clock behind ours): the floor", at(-5_000), MIN_LOCK_WAIT_MS],
    ["two seconds ahead: the floor", at(2_000), MIN_LOCK_WAIT_MS],
    ["no date (legal hold): the cap", undefined, MAX_LOCK_WAIT_MS],
  ];
  for (const [name, until, ms] of cases) assert.equal(lockRequeueMs(until, NOW), ms, name);
});

test("the message is RFC 3339 in UTC, seconds rounded up so it is never before S3's date", () => {
  assert.equal(lockedUntilMessage(new Date("2027-01-15T00:00:00Z")), "Locked until 2027-01-15T00:00:00Z");
  assert.equal(lockedUntilMessage(new Date("2027-01-15T00:00:00.200Z")), "Locked until 2027-01-15T00:00:01Z");
  assert.match(lockedUntilMessage(undefined), /^Locked \(.*legal hold/);
});
