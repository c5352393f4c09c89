import assert from "node:assert/strict";
import { test } from "node:test";
import { conditionsEqual, findCondition, isConditionTrue, removeCondition, setCondition, toKubeTime, toMicroTime } from "../../src/runtime/conditions.ts";

const t0 = new Date("2030-01-01T00:00:00.123Z");
const t1 = new Date("2030-01-01T01:00:00Z");
const t2 = new Date("2030-01-01T02:00:00Z");

test("a new condition gets lastTransitionTime now, at second precision", () => {
  const c = setCondition([], { type: "Ready", status: "False", reason: "Pending", message: "waiting", observedGeneration: 1 }, t0);
  assert.deepEqual(c, [{ type: "Ready", status: "False", reason: "Pending", message: "waiting", lastTransitionTime: "2030-01-01T00:00:00Z", observedGeneration: 1 }]);
});

test("lastTransitionTime moves only when status changes", () => {
  let c = setCondition(undefined, { type: "Ready", status: "False", reason: "Pending", message: "a" }, t0);
  c = setCondition(c, { type: "Ready", status: "False", reason: "StillPending", message: "b", observedGeneration: 2 }, t1);
  assert.equal(c[0]!.lastTransitionTime, toKubeTime(t0), "same status: reason, message and generation change, the time does not");
  assert.equal(c[0]!.reason, "StillPending");
  assert.equal(c[0]!.message, "b");
  assert.equal(c[0]!.observedGeneration, 2);
  c = setCondition(c, { type: "Ready", status: "True", reason: "Done", message: "" }, t2);
  assert.equal(c[0]!.lastTransitionTime, toKubeTime(t2), "status changed: the time moves");
  assert.equal(isConditionTrue(c, "Ready"), true);
});

test("setCondition does not mutate its input and keeps other conditions in order", () => {
  const before = setCondition(setCondition([], { type: "A", status: "True", reason: "R", message: "" }, t0), { type: "B", status: "False", reason: "R", message: "" }, t0);
  const frozen = structuredClone(before);
  const after = setCondition(before, { type: "A", status: "False", reason: "R2", message: "x" }, t1);
  assert.deepEqual(before, frozen);
  assert.deepEqual(after.map((c) => c.type), ["A", "B"]);
  assert.equal(findCondition(after, "A")?.status, "False");
  assert.deepEqual(removeCondition(after, "A").map((c) => c.type), ["B"]);
});

test("conditionsEqual tells whether a status write is needed", () => {
  const a = setCondition([], { type: "Ready", status: "True", reason: "Done", message: "" }, t0);
  assert.equal(conditionsEqual(a, setCondition(a, { type: "Ready", status: "True", reason: "Done", message: "" }, t1)), true);
  assert.equal(conditionsEqual(a, setCondition(a, { type: "Ready", status: "True", reason: "Done", message: "changed" }, t1)), false);
  assert.equal(conditionsEqual(undefined, []), true);
});

test("reasons must be CamelCase", () => {
  assert.throws(() => setCondition([], { type: "Ready", status: "True", reason: "not camel case", message: "" }, t0), /CamelCase/);
});

test("MicroTime has six fractional digits", () => {
  assert.equal(toMicroTime(t0), "2030-01-01T00:00:00.123000Z");
});
