import assert from "node:assert/strict";
import { test } from "node:test";
import { mergePatchBetween, normalizeJson } from "../../src/runtime/merge-patch.ts";

/** [what, from, to, the patch (undefined: nothing to send)] */
const cases: Array<[string, unknown, unknown, unknown]> = [
  ["equal objects", { a: 1, b: { c: "x" } }, { a: 1, b: { c: "x" } }, undefined],
  ["an undefined value is an absent key", { a: 1 }, { a: 1, x: undefined }, undefined],
  ["an absent key is an undefined value", { a: 1, x: undefined }, { a: 1 }, undefined],
  ["a removed key becomes null", { a: 1, next: "2030-01-01T00:00:00Z" }, { a: 1 }, { next: null }],
  ["a key set to undefined is removed", { a: 1, next: "t" }, { a: 1, next: undefined }, { next: null }],
  ["a key set to null is removed", { a: 1, next: "t" }, { a: 1, next: null }, { next: null }],
  ["a removed key nested in an object", { prune: { total: 3, wouldPrune: ["b1"] } }, { prune: { total: 3 } }, { prune: { wouldPrune: null } }],
  ["only what changed is sent", { a: 1, b: 2, c: { d: 3, e: 4 } }, { a: 1, b: 5, c: { d: 3, e: 6 } }, { b: 5, c: { e: 6 } }],
  ["a new key", { a: 1 }, { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] } }],
  ["a new object leaves out its undefined keys", {}, { b: { c: 1, d: undefined } }, { b: { c: 1 } }],
  ["arrays are sent whole when they differ", { conditions: [{ type: "Ready", status: "False" }, { type: "Accepted" }] }, { conditions: [{ type: "Ready", status: "True" }, { type: "Accepted" }] }, { conditions: [{ type: "Ready", status: "True" }, { type: "Accepted" }] }],
  ["equal arrays are not sent", { conditions: [{ type: "Ready", reason: "X", extra: undefined }] }, { conditions: [{ type: "Ready", reason: "X" }] }, undefined],
  ["a scalar replaced by an object", { a: "x" }, { a: { b: 1 } }, { a: { b: 1 } }],
  ["an object replaced by a scalar", { a: { b: 1 } }, { a: 2 }, { a: 2 }],
  ["an object replaced by an array", { a: { b: 1 } }, { a: [1] }, { a: [1] }],
  ["everything removed", { a: 1, b: { c: 2 } }, {}, { a: null, b: null }],
  ["from nothing", undefined, { a: 1 }, { a: 1 }],
];

for (const [what, from, to, want] of cases) {
  test(`merge patch: ${what}`, () => {
    assert.deepEqual(mergePatchBetween(from, to), want);
  });
}

test("merge patch: applying the patch to the old document gives the new one, as JSON stores it", () => {
  // RFC 7386's application, to check the patches above against their definition.
  const apply = (target: unknown, patch: unknown): unknown => {
    if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
    const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = apply(out[k], v);
    }
    return out;
  };
  for (const [what, from, to] of cases) {
    const patch = mergePatchBetween(from ?? {}, to);
    const result = patch === undefined ? from : apply(normalizeJson(from ?? {}), patch);
    assert.deepEqual(normalizeJson(result), normalizeJson(to), what);
  }
});
