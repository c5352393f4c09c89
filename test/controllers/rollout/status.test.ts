/** statusFor: the CollectionRollout's status for each step, a pure function of the current status, the step and the clock. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../../../src/api/v1alpha1/rollout.ts";
import { ERROR_CODES } from "../../../src/errors.ts";
import { PLAIN_REASONS, statusFor } from "../../../src/controllers/rollout/status.ts";
import type { RolloutStep } from "../../../src/controllers/rollout/steps.ts";
import { ALIAS, at, BLUE, FAILING, GREEN, iso, NOW, PASSING, row } from "./decide-world.ts";

const SPEC: CollectionRolloutSpec = { connectionRef: { name: "qdrant" }, alias: ALIAS, collection: GREEN, source: { copyFrom: {} } };
const cond = (s: CollectionRolloutStatus, type: string) => s.conditions?.find((c) => c.type === type);
const write = (current: CollectionRolloutStatus | undefined, step: RolloutStep, when = NOW, spec = SPEC) => statusFor(current, step, { generation: 4, now: when, spec, name: "v2" });
const KNOWN = new Set<string>([...Object.values(ERROR_CODES).map((e) => e.reason), ...PLAIN_REASONS]);

/** Every condition reason is the registry's or a plain one. */
function reasonsKnown(s: CollectionRolloutStatus) {
  for (const c of s.conditions ?? []) assert.ok(KNOWN.has(c.reason), `condition ${c.type} has reason ${c.reason}, in neither the registry nor PLAIN_REASONS`);
}

test("Observe and Done write nothing", () => {
  const s: CollectionRolloutStatus = { phase: "Validating", observedGeneration: 3 };
  assert.equal(write(s, { kind: "Observe", need: "gates" }), s);
  assert.equal(write(s, { kind: "Done", requeueMs: 5 }), s);
  assert.deepEqual(write(undefined, { kind: "Done" }), {});
});

test("Begin: Preparing with blue recorded, a failed run's records forgotten (the Job numbering kept)", () => {
  const failed: CollectionRolloutStatus = { phase: "Failed", jobCount: 3, jobName: "rollout-v2-3", gates: FAILING.results, gatesStartTime: iso(-1000), failure: { reason: "GatesTimedOut", message: "x" }, copy: { copiedPoints: 5 }, observedGeneration: 3,
    conditions: [{ type: "GatesPassed", status: "False", reason: "GatesTimedOut", message: "x", lastTransitionTime: "2026-03-01T11:00:00Z" }] };
  const s = write(failed, { kind: "Begin", activeCollection: BLUE });
  assert.deepEqual(
    { phase: s.phase, activeCollection: s.activeCollection, jobCount: s.jobCount, jobName: s.jobName, gates: s.gates, failure: s.failure, copy: s.copy, start: s.gatesStartTime, gen: s.observedGeneration },
    { phase: "Preparing", activeCollection: BLUE, jobCount: 3, jobName: undefined, gates: undefined, failure: undefined, copy: undefined, start: undefined, gen: 4 },
  );
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "GatesPassed")?.status, cond(s, "Promoted")?.status], ["False", undefined, "False"], "the last run's verdict is gone; a new one comes when green is judged");
  assert.equal(cond(s, "Promoted")?.message, `Not switched: alias ${ALIAS} points at ${BLUE}.`);
  assert.equal(write(undefined, { kind: "Begin", activeCollection: null }).activeCollection, "");
  reasonsKnown(s);
});

test("copy: StartCopy and Adopt bump jobCount to n; Building mirrors green's record into status.copy", () => {
  const started = write({ phase: "Preparing", jobCount: 1 }, { kind: "StartCopy", n: 2, jobName: "rollout-v2-2", attempt: 2, source: BLUE, resumeFrom: 400 });
  assert.deepEqual([started.jobName, started.jobCount, started.phase], ["rollout-v2-2", 2, "Preparing"]);
  assert.equal(cond(started, "Ready")?.message, `Job rollout-v2-2 is copying collection ${BLUE} into ${GREEN} (attempt 2, resuming at point 400).`);
  const adopted = write({ phase: "Preparing", jobCount: 2 }, { kind: "Adopt", job: { name: "rollout-v2-3", n: 3, kind: "copy", attempt: 3 } });
  assert.deepEqual([adopted.jobName, adopted.jobCount], ["rollout-v2-3", 3]);
  const b = write(started, { kind: "Building", message: "copying", copy: { copied: 500, total: 1000, nextOffset: 500, done: false, attempt: 2 }, requeueMs: 5000 });
  assert.deepEqual(b.copy, { copiedPoints: 500, totalPoints: 1000, nextOffset: 500, done: false });
  assert.deepEqual([cond(b, "Ready")?.reason, cond(b, "Ready")?.message], ["Building", "copying"]);
  // A new green starts from nothing: CreateGreen forgets an earlier green's copy figures.
  const created = write({ phase: "Preparing", copy: { copiedPoints: 400, nextOffset: 400 } }, { kind: "CreateGreen", source: BLUE, field: "spec.source.copyFrom" });
  assert.equal(created.copy, undefined);
  const restore = write(undefined, { kind: "CreateRestore", name: "rollout-v2" });
  assert.equal(restore.restoreName, "rollout-v2");
  reasonsKnown(b);
});

test("Validating: the rows, gatesStartTime set once, GatesPassed with the failing numbers or the count", () => {
  const first = write({ phase: "Preparing" }, { kind: "Validating", gates: FAILING, message: "m", requeueMs: 5000 });
  assert.equal(first.phase, "Validating");
  assert.equal(first.gatesStartTime, "2026-03-01T12:00:00Z");
  assert.deepEqual(first.gates, FAILING.results);
  assert.deepEqual([cond(first, "GatesPassed")?.status, cond(first, "GatesPassed")?.message], ["False", "Gates not passed: minPoints 800 points < 1000; goldenQuery/top overlap 0.60 (6/10) < 0.80."]);
  const later = write(first, { kind: "Validating", gates: PASSING, message: "all 2 gates passed; promoting.", requeueMs: 1 }, at(60_000));
  assert.equal(later.gatesStartTime, "2026-03-01T12:00:00Z", "the timeout counts from the first judgement");
  assert.deepEqual([cond(later, "GatesPassed")?.status, cond(later, "GatesPassed")?.observedGeneration], ["True", 4]);
  assert.equal(cond(later, "GatesPassed")?.message, "All 2 gates passed: minPoints, requireGreen.");
  reasonsKnown(later);
});

test("the gate Job: a running row, jobName/jobCount; Adopt of a gate Job does the same", () => {
  const s = write({ phase: "Validating", jobCount: 1, gatesStartTime: iso(0) }, { kind: "StartGateJob", n: 2, jobName: "rollout-v2-2", gates: PASSING }, at(1000));
  assert.deepEqual([s.jobName, s.jobCount], ["rollout-v2-2", 2]);
  assert.deepEqual(s.gates?.map((r) => [r.name, r.passed]), [["minPoints", true], ["requireGreen", true], ["job", false]]);
  assert.deepEqual([cond(s, "GatesPassed")?.status, cond(s, "GatesPassed")?.reason], ["Unknown", "GateJobRunning"], "not a failure (no GateFailed Event) while the Job has not said");
  // The rechecks while it runs keep it Unknown (no GateFailed Event for a Job that has not said).
  const still = write(s, { kind: "Validating", gates: { results: s.gates ?? [], allPassed: false }, message: "running", requeueMs: 1 }, at(2000));
  assert.deepEqual([cond(still, "GatesPassed")?.status, cond(still, "GatesPassed")?.message], ["Unknown", "Every Qdrant gate passed; gate Job rollout-v2-2 is running."]);
  const a = write({ phase: "Validating", jobCount: 1, gates: PASSING.results }, { kind: "Adopt", job: { name: "rollout-v2-2", n: 2, kind: "gate", attempt: 1 } });
  assert.deepEqual(a.gates?.at(-1)?.name, "job");
  assert.equal(a.jobCount, 2);
  reasonsKnown(s);
});

test("AwaitPromotion: the command to approve; CreateBackup records the backup", () => {
  const s = write({ phase: "Validating", gates: PASSING.results }, { kind: "AwaitPromotion" });
  assert.equal(s.phase, "AwaitingPromotion");
  assert.equal(cond(s, "Ready")?.reason, "AwaitingPromotion");
  assert.match(cond(s, "Ready")?.message ?? "", /kubectl patch collectionrollout v2 --type merge -p '\{"spec":\{"promotion":\{"approved":true\}\}\}'/);
  assert.equal(cond(s, "GatesPassed")?.status, "True");
  const b = write(s, { kind: "CreateBackup", name: "rollout-v2-before-switch", collection: BLUE });
  assert.deepEqual([b.backupName, b.phase, cond(b, "Ready")?.reason], ["rollout-v2-before-switch", "AwaitingPromotion", "BackingUpActive"]);
  reasonsKnown(b);
});

test("Promoted: promotedAt, previousCollection, Promoted True; Ready True without analysis, Analyzing with it", () => {
  const validating: CollectionRolloutStatus = { phase: "Validating", activeCollection: BLUE, gates: [...PASSING.results, row("job", false, "running", "exit 0")], failure: { reason: "SwitchFailed", message: "x" } };
  const s = write(validating, { kind: "Promoted", previous: BLUE, adopted: false });
  assert.deepEqual([s.phase, s.promotedAt, s.previousCollection, s.failure], ["Promoted", "2026-03-01T12:00:00Z", BLUE, undefined]);
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason, cond(s, "Promoted")?.status], ["True", "Promoted", "True"]);
  assert.equal(cond(s, "Promoted")?.message, `Alias ${ALIAS} points at ${GREEN} (from ${BLUE}).`);
  assert.equal(s.gates?.find((r) => r.name === "job")?.passed, true, "the switch was made on the gate Job's success");
  const withAnalysis = { ...SPEC, gates: { goldenQueries: [{ name: "top", query: { query: 1 } }] }, analysis: { window: "1h" } };
  const a = write(validating, { kind: "Switch", from: BLUE, to: GREEN, reason: "Promote" }, NOW, withAnalysis);
  assert.deepEqual([a.phase, cond(a, "Ready")?.status, cond(a, "Ready")?.reason], ["Promoted", "False", "Analyzing"]);
  assert.match(cond(a, "Ready")?.message ?? "", /runs until 2026-03-01T13:00:00Z/);
  // Checks: lastCheckTime, results; promotedAt not moved.
  const checked = write(a, { kind: "Promoted", previous: BLUE, adopted: false, analysis: PASSING, requeueMs: 5000 }, at(5000), withAnalysis);
  assert.deepEqual([checked.promotedAt, checked.analysis?.lastCheckTime, checked.analysis?.passed], ["2026-03-01T12:00:00Z", iso(5000), undefined]);
  const ended = write(checked, { kind: "Promoted", previous: BLUE, adopted: false, analysisEnded: true }, at(3_600_000), withAnalysis);
  assert.deepEqual([ended.analysis?.passed, ended.analysis?.endTime, cond(ended, "Ready")?.status], [true, iso(3_600_000), "True"]);
  const failed = write(checked, { kind: "Promoted", previous: BLUE, adopted: false, analysis: FAILING }, at(10_000), withAnalysis);
  assert.deepEqual([failed.analysis?.passed, cond(failed, "Ready")?.reason], [false, "AnalysisFailed"]);
  assert.match(cond(failed, "Ready")?.message ?? "", /^Analysis failed: minPoints 800 points < 1000; goldenQuery\/top overlap 0\.60 \(6\/10\) < 0\.80\. Switching back\.$/);
  // Adopted: said so, no previous when there was no alias.
  const adopted = write({ phase: "AwaitingPromotion", activeCollection: "" }, { kind: "Promoted", previous: null, adopted: true });
  assert.equal(adopted.previousCollection, undefined);
  assert.match(cond(adopted, "Promoted")?.message ?? "", /found switched after a restart, recorded without a second switch/);
  for (const x of [s, a, checked, ended, failed, adopted]) reasonsKnown(x);
});

test("RolledBack, DeletePrevious, Abort, Fail, Wait, Invalid", () => {
  const promoted: CollectionRolloutStatus = write({ phase: "Validating", activeCollection: BLUE }, { kind: "Promoted", previous: BLUE, adopted: false });
  const rb = write(promoted, { kind: "RolledBack", reason: "AnalysisFailed", message: "analysis failed: minPoints 800 points < 1000", adopted: false }, at(60_000));
  assert.deepEqual([rb.phase, rb.rolledBackAt, rb.failure?.reason, cond(rb, "Ready")?.reason, cond(rb, "Promoted")?.status], ["RolledBack", iso(60_000), "AnalysisFailed", "AnalysisFailed", "False"]);
  const del = write(promoted, { kind: "DeletePrevious", collection: BLUE }, at(120_000));
  assert.deepEqual([del.previousDeletedAt, del.phase, cond(del, "Ready")?.status], [iso(120_000), "Promoted", "True"]);
  const ab = write({ phase: "Preparing" }, { kind: "Abort", deleteGreen: true, message: "Aborted before promotion: deleted collection policies_v2." });
  assert.deepEqual([ab.phase, ab.failure?.reason, cond(ab, "Ready")?.reason], ["Aborted", "Aborted", "Aborted"]);
  const f = write({ phase: "Validating" }, { kind: "Fail", reason: "GatesTimedOut", message: "spec.gates.timeout: …", gates: FAILING });
  assert.deepEqual([f.phase, f.failure?.reason, cond(f, "Ready")?.reason, cond(f, "GatesPassed")?.status, cond(f, "GatesPassed")?.reason], ["Failed", "GatesTimedOut", "GatesTimedOut", "False", "GatesTimedOut"]);
  const w = write({ phase: "Validating" }, { kind: "Wait", phase: "Validating", reason: "QdrantUnreachable", message: "down", requeueMs: 1 });
  assert.deepEqual([w.phase, w.observedGeneration, cond(w, "Ready")?.reason], ["Validating", 4, "QdrantUnreachable"]);
  const inv = write(undefined, { kind: "Invalid", reason: "InvalidSpec", message: "spec.analysis: …" });
  assert.deepEqual([inv.phase, cond(inv, "Ready")?.reason], ["Pending", "InvalidSpec"]);
  for (const x of [rb, del, ab, f, w, inv]) reasonsKnown(x);
});

test("without the spec in the context, messages name the alias and green in words", () => {
  const s = statusFor({ phase: "Validating", activeCollection: BLUE }, { kind: "Promoted", previous: BLUE, adopted: false }, { generation: 1, now: NOW });
  assert.equal(cond(s, "Promoted")?.message, `The alias points at the green collection (from ${BLUE}).`);
  const b = statusFor(undefined, { kind: "Begin", activeCollection: null }, { generation: 1, now: NOW });
  assert.equal(cond(b, "Ready")?.message, "Building the green collection; the alias does not exist yet.");
});

test("StampGreen names the rollout's QdrantRestore even when the status never recorded its creation (a manager killed right after it)", () => {
  assert.equal(write({ phase: "Preparing" }, { kind: "StampGreen" }).restoreName, "rollout-v2");
  assert.equal(write({ phase: "Preparing", restoreName: "rollout-v2" }, { kind: "StampGreen" }).restoreName, "rollout-v2");
});
