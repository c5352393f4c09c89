import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backupJobName, labelValue, MAX_JOB_NAME } from "../../../src/controllers/backup/names.ts";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

describe("backupJobName", () => {
  const cases: Array<[string, string, string | RegExp]> = [
    ["a short name keeps its name", "policies-manual", "backup-policies-manual"],
    ["a schedule's tick name", "nightly-20260115-0200", "backup-nightly-20260115-0200"],
    ["exactly 56 characters still fits", "a".repeat(56), `backup-${"a".repeat(56)}`],
    ["57 characters is shortened with a hash", "a".repeat(57), new RegExp(`^backup-${"a".repeat(47)}-[0-9a-f]{8}$`)],
    ["a 253-character name", "b".repeat(253), new RegExp(`^backup-${"b".repeat(47)}-[0-9a-f]{8}$`)],
    ["dots are not allowed in a label: shortened", "team.a.backup", /^backup-team-a-backup-[0-9a-f]{8}$/],
  ];
  for (const [what, name, want] of cases) {
    test(what, () => {
      const got = backupJobName(name);
      if (typeof want === "string") assert.equal(got, want);
      else assert.match(got, want);
      assert.ok(got.length <= MAX_JOB_NAME, `${got} is ${got.length} characters`);
      assert.match(got, DNS_LABEL);
    });
  }

  test("is deterministic, and distinct for names sharing a long prefix", () => {
    const a = `${"x".repeat(60)}-1`;
    const b = `${"x".repeat(60)}-2`;
    assert.equal(backupJobName(a), backupJobName(a));
    assert.notEqual(backupJobName(a), backupJobName(b));
    assert.notEqual(backupJobName("team.a"), backupJobName("team-a"), "the hash keeps a dotted name apart from its dashed twin");
  });

  test("refuses an empty name", () => {
    assert.throws(() => backupJobName(""), RangeError);
  });
});

describe("labelValue", () => {
  test("short values pass through; long ones are shortened to 63 deterministically", () => {
    assert.equal(labelValue("team.a_backup-1"), "team.a_backup-1");
    const long = labelValue("c".repeat(200));
    assert.equal(long.length, 63);
    assert.equal(long, labelValue("c".repeat(200)));
    assert.match(long, /^c+-[0-9a-f]{8}$/);
  });
});
