/** decideConcurrency: CronJob's Allow / Forbid / Replace. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decideConcurrency, type ConcurrencyDecision, type ConcurrencyPolicy } from "../../src/backup/schedule/concurrency.ts";

test("concurrency policies", () => {
  // [policy, active, scheduledName, expected]
  const cases: Array<[ConcurrencyPolicy, string[], string | undefined, ConcurrencyDecision]> = [
    ["Allow", [], undefined, { proceed: true, deleteActive: [] }],
    ["Allow", ["s-20260115-0100"], undefined, { proceed: true, deleteActive: [] }],
    ["Forbid", [], undefined, { proceed: true, deleteActive: [] }],
    ["Forbid", ["s-20260115-0100"], undefined, { proceed: false, deleteActive: [] }],
    ["Forbid", ["s-20260115-0100"], "s-20260115-0200", { proceed: false, deleteActive: [] }],
    ["Replace", [], undefined, { proceed: true, deleteActive: [] }],
    ["Replace", ["s-b", "s-a", "s-b"], undefined, { proceed: true, deleteActive: ["s-a", "s-b"] }],
    // The tick's own backup already exists (a lost status write): adopt it, never delete it.
    ["Forbid", ["s-20260115-0200"], "s-20260115-0200", { proceed: true, deleteActive: [] }],
    ["Replace", ["s-20260115-0200"], "s-20260115-0200", { proceed: true, deleteActive: [] }],
    ["Replace", ["s-20260115-0200", "s-20260115-0100"], "s-20260115-0200", { proceed: true, deleteActive: ["s-20260115-0100"] }],
    ["Allow", ["s-20260115-0200"], "s-20260115-0200", { proceed: true, deleteActive: [] }],
  ];
  for (const [policy, active, scheduled, expected] of cases) {
    assert.deepEqual(decideConcurrency(policy, active, scheduled), expected, `${policy} ${JSON.stringify(active)} ${scheduled ?? ""}`);
  }
});

test("decideConcurrency does not modify its input", () => {
  const active = Object.freeze(["s-b", "s-a"]);
  assert.deepEqual(decideConcurrency("Replace", active).deleteActive, ["s-a", "s-b"]);
  assert.deepEqual(active, ["s-b", "s-a"]);
});
