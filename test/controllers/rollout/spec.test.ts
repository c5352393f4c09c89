/** checkRolloutSpec: what the schema and CEL cannot say, each message naming the field; and the timings read from a valid spec. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CollectionRolloutSpec } from "../../../src/api/v1alpha1/rollout.ts";
import { COPY_METADATA, OWNER_METADATA } from "../../../src/controllers/rollout/names.ts";
import { analysisEndMs, analysisWindowMs, checkRolloutSpec, gatesTimeoutMs, maxAttempts, retainPreviousMs, switchBackOnFailure } from "../../../src/controllers/rollout/spec.ts";

const base: CollectionRolloutSpec = { connectionRef: { name: "qdrant" }, alias: "policies_production", collection: "policies_v2", source: { copyFrom: {} } };
const spec = (over: Record<string, unknown>) => ({ ...base, ...over });
const golden = { goldenQueries: [{ name: "top", query: { query: 42 } }] };

function refused(s: unknown, field: RegExp) {
  const c = checkRolloutSpec(s);
  assert.equal(c.ok, false, `accepted ${JSON.stringify(s)}`);
  if (c.ok) return;
  assert.equal(c.reason, "InvalidSpec");
  assert.match(c.message, field);
}

test("a plain spec, and each source, pass", () => {
  assert.deepEqual(checkRolloutSpec(base), { ok: true });
  assert.deepEqual(checkRolloutSpec(spec({ source: { external: {} } })), { ok: true });
  assert.deepEqual(checkRolloutSpec(spec({ source: { fromBackup: { source: { backupRef: { name: "b" } } } } })), { ok: true });
  assert.deepEqual(checkRolloutSpec(spec({ gates: golden, analysis: { window: "30m" }, retainPrevious: "7d", job: { backoffLimit: 1 } })), { ok: true });
});

test("the schema's own problems name the field", () => {
  refused({ ...base, alias: undefined }, /spec\.alias/);
  refused(spec({ gates: { timeout: "an hour" } }), /^spec\.gates\.timeout/);
});

test("the CEL rules re-checked: alias ≠ collection, exactly one source (fromBackup: one of its sources)", () => {
  refused(spec({ alias: "policies_v2" }), /^spec\.alias: alias and collection must differ/);
  refused(spec({ source: { copyFrom: {}, external: {} } }), /^spec\.source: set exactly one of fromBackup, copyFrom or external$/);
  refused(spec({ source: {} }), /^spec\.source: set exactly one/);
  refused(spec({ source: { fromBackup: { source: { backupRef: { name: "b" }, latest: { locationRef: { name: "s3" }, collection: "c" } } } } }), /^spec\.source\.fromBackup\.source: set exactly one/);
});

test("copyFrom.collection must be neither green nor the alias", () => {
  refused(spec({ source: { copyFrom: { collection: "policies_v2" } } }), /^spec\.source\.copyFrom\.collection: policies_v2 is spec\.collection/);
  refused(spec({ source: { copyFrom: { collection: "policies_production" } } }), /^spec\.source\.copyFrom\.collection: policies_production is spec\.alias/);
});

test("golden queries: names unique, expectedIds not empty; an analysis needs golden queries", () => {
  refused(spec({ gates: { goldenQueries: [{ name: "a", query: {} }, { name: "a", query: {} }] } }), /^spec\.gates\.goldenQueries\[1\]\.name: "a" is used by an earlier golden query/);
  refused(spec({ gates: { goldenQueries: [{ name: "a", query: {}, expectedIds: [] }] } }), /^spec\.gates\.goldenQueries\[a\]\.expectedIds/);
  refused(spec({ analysis: { window: "1h" } }), /^spec\.analysis: the analysis runs the gates' golden queries/);
});

test("durations that parse; a zero gates.timeout is refused", () => {
  refused(spec({ gates: { timeout: "0s" } }), /^spec\.gates\.timeout: must be longer than 0s$/);
  assert.deepEqual(checkRolloutSpec(spec({ gates: { timeout: "90m" } })), { ok: true });
});

test("the operator's metadata keys in a config, a gate Job image in its settings, Job settings the apiserver refuses", () => {
  refused(spec({ source: { copyFrom: { config: { metadata: { [OWNER_METADATA]: {} } } } } }), /^spec\.source\.copyFrom\.config\.metadata: the key/);
  refused(spec({ source: { external: { config: { metadata: { [COPY_METADATA]: {} } } } } }), /^spec\.source\.external\.config\.metadata/);
  refused(spec({ gates: { job: { image: "x", settings: { image: "y" } } } }), /^spec\.gates\.job\.settings\.image/);
  refused(spec({ job: { podLabels: { "bad key!": "x" } } }), /^spec\.job\.podLabels/);
  refused(spec({ gates: { job: { image: "x", settings: { podLabels: { "bad key!": "x" } } } } }), /^spec\.gates\.job\.settings\.podLabels/);
});

test("timings: gates.timeout default 1h, analysis.window, retainPrevious, attempts 1 + backoffLimit (default 3)", () => {
  assert.equal(gatesTimeoutMs(base), 3_600_000);
  assert.equal(gatesTimeoutMs(spec({ gates: { timeout: "5m" } })), 300_000);
  assert.equal(analysisWindowMs(base), undefined);
  assert.equal(analysisWindowMs(spec({ analysis: { window: "30m" } })), 1_800_000);
  assert.equal(analysisWindowMs(spec({ analysis: { window: "0s" } })), undefined);
  assert.equal(retainPreviousMs(base), undefined);
  assert.equal(retainPreviousMs(spec({ retainPrevious: "1w" })), 604_800_000);
  assert.equal(maxAttempts(base), 4);
  assert.equal(maxAttempts(spec({ job: { backoffLimit: 0 } })), 1);
  assert.equal(switchBackOnFailure(base), true);
  assert.equal(switchBackOnFailure(spec({ analysis: { window: "1h", switchBackOnFailure: false } })), false);
});

test("analysisEndMs: promotedAt + analysis.window, the one end time holder.ts, status.ts and decide-promoted.ts use", () => {
  const s0: CollectionRolloutSpec = { ...base, source: { external: {} } };
  assert.equal(analysisEndMs({ ...s0, analysis: { window: "1h" } }, "2026-03-01T12:00:00Z"), Date.parse("2026-03-01T13:00:00Z"));
  const cases: Array<[CollectionRolloutSpec | undefined, string | undefined]> = [
    [s0, "2026-03-01T12:00:00Z"],
    [{ ...s0, analysis: { window: "0s" } }, "2026-03-01T12:00:00Z"],
    [{ ...s0, analysis: { window: "soon" } }, "2026-03-01T12:00:00Z"],
    [{ ...s0, analysis: { window: "1h" } }, undefined],
    [undefined, "2026-03-01T12:00:00Z"],
  ];
  for (const [s, at] of cases) {
    assert.equal(analysisEndMs(s, at), undefined, JSON.stringify([s, at]));
  }
});
