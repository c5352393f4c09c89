/**
 * decideRollout after the switch (analysis, switch-back, retainPrevious, rollback and their crash windows)
 * and abort before it, under an injected clock.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../../../src/api/v1alpha1/rollout.ts";
import { ANALYSIS_RECHECK_MS, RECORDED_MS } from "../../../src/controllers/rollout/decide.ts";
import { statusFor } from "../../../src/controllers/rollout/status.ts";
import { after, ALIAS, at, BEGUN, BLUE, decide, FAILING, GREEN, iso, OURS, PASSING, rollout, STRANGER } from "./decide-world.ts";

const HOUR = 3_600_000;
const PROMOTED: CollectionRolloutStatus = { phase: "Promoted", activeCollection: BLUE, previousCollection: BLUE, promotedAt: iso(0), observedGeneration: 1 };
const onGreen = { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } };
const ANALYSIS: Partial<CollectionRolloutSpec> = { gates: { goldenQueries: [{ name: "top", query: { query: 42 } }] }, analysis: { window: "1h" } };
const promoted = (spec: Partial<CollectionRolloutSpec> = {}, status: CollectionRolloutStatus = PROMOTED, generation = 1) => rollout(spec, status, generation);

test("Promoted with nothing due asks for nothing: Done, requeued for retainPrevious's time (never without it)", () => {
  assert.deepEqual(decide(promoted()), { step: { kind: "Done" }, needs: [] });
  assert.deepEqual(decide(promoted({ retainPrevious: "7d" }), { now: at(HOUR) }), { step: { kind: "Done", requeueMs: 7 * 24 * HOUR - HOUR }, needs: [] });
  // Due: deleted (checked against where the alias points first).
  const due = decide(promoted({ retainPrevious: "7d" }), { ...onGreen, now: at(7 * 24 * HOUR) });
  assert.deepEqual(due, { step: { kind: "DeletePrevious", collection: BLUE }, needs: ["references", "qdrant"] });
  // Deleted already: finished.
  assert.deepEqual(decide(promoted({ retainPrevious: "7d" }, { ...PROMOTED, previousDeletedAt: iso(7 * 24 * HOUR) }), { now: at(8 * 24 * HOUR) }).step, { kind: "Done" });
  // The alias points at previous again (someone switched it back): not deleted.
  const back = decide(promoted({ retainPrevious: "1h" }), { qdrant: { aliasTarget: BLUE }, now: at(2 * HOUR) }).step;
  assert.equal(back.kind === "Wait" && back.reason, "AliasMoved");
  assert.equal(back.kind === "Wait" && back.phase, "Promoted");
});

test("analysis: checks every ANALYSIS_RECHECK_MS during the window; previous is not deleted while it runs", () => {
  const r = promoted({ ...ANALYSIS, retainPrevious: "30m" });
  const first = decide(r, { ...onGreen, analysis: PASSING, now: at(1_000) });
  assert.deepEqual(first.needs, ["references", "qdrant", "analysis"]);
  assert.deepEqual(first.step, { kind: "Promoted", previous: BLUE, adopted: false, analysis: PASSING, requeueMs: ANALYSIS_RECHECK_MS });
  const checked = promoted(r.spec, after(r, [first.step, at(1_000)]));
  assert.equal(checked.status?.analysis?.lastCheckTime, iso(1_000));
  // Not due yet: Done until the next check, nothing observed; past retainPrevious but the analysis runs: kept.
  assert.deepEqual(decide(checked, { now: at(3_000) }), { step: { kind: "Done", requeueMs: 3_000 }, needs: [] });
  assert.equal(decide(checked, { ...onGreen, analysis: PASSING, now: at(40 * 60_000) }).step.kind, "Promoted");
  // The window ended with the last check passing: ended without another query, then retainPrevious is due at once.
  const end = decide(checked, { ...onGreen, now: at(HOUR) });
  assert.deepEqual(end.step, { kind: "Promoted", previous: BLUE, adopted: false, analysisEnded: true, requeueMs: 1 });
  assert.ok(!end.needs.includes("analysis"));
  const ended = promoted(r.spec, after(checked, [end.step, at(HOUR)]));
  assert.equal(ended.status?.analysis?.passed, true);
  assert.deepEqual(decide(ended, { ...onGreen, now: at(HOUR + 1) }).step, { kind: "DeletePrevious", collection: BLUE });
});

test("analysis fails: recorded first, then switched back (once); a kill after the switch-back is adopted as RolledBack", () => {
  const r = promoted(ANALYSIS);
  const failing = decide(r, { ...onGreen, analysis: FAILING, now: at(1_000) }).step;
  assert.deepEqual(failing, { kind: "Promoted", previous: BLUE, adopted: false, analysis: FAILING, requeueMs: RECORDED_MS });
  const recorded = promoted(ANALYSIS, after(r, [failing, at(1_000)]));
  assert.equal(recorded.status?.analysis?.passed, false);
  const back = decide(recorded, { ...onGreen, now: at(2_000) }).step;
  assert.equal(back.kind, "Switch");
  if (back.kind === "Switch") {
    assert.deepEqual([back.from, back.to, back.reason], [GREEN, BLUE, "SwitchBack"]);
    assert.equal(back.message, `Switched alias ${ALIAS} back to ${BLUE} (from ${GREEN}): analysis failed: minPoints 800 points < 1000; goldenQuery/top overlap 0.60 (6/10) < 0.80`);
  }
  const adopted = decide(recorded, { qdrant: { aliasTarget: BLUE }, now: at(2_000) }).step;
  assert.equal(adopted.kind === "RolledBack" && adopted.adopted, true);
  assert.equal(adopted.kind === "RolledBack" && adopted.reason, "AnalysisFailed");
});

test("analysis fails with switchBackOnFailure false: stays Promoted (AnalysisFailed), previous kept, finished", () => {
  const spec = { ...ANALYSIS, analysis: { window: "1h", switchBackOnFailure: false }, retainPrevious: "1h" };
  const r = promoted(spec);
  const failing = decide(r, { ...onGreen, analysis: FAILING, now: at(1_000) }).step;
  assert.deepEqual(failing, { kind: "Promoted", previous: BLUE, adopted: false, analysis: FAILING });
  const recorded = promoted(spec, after(r, [failing]));
  assert.equal(recorded.status?.conditions?.find((c) => c.type === "Ready")?.reason, "AnalysisFailed");
  assert.deepEqual(decide(recorded, { now: at(3 * HOUR) }), { step: { kind: "Done" }, needs: [] });
});

test("a golden query refused after the switch is a failing check", () => {
  const fatal = { ...FAILING, allPassed: true, fatal: { reason: "GoldenQueryRefused", message: "refused" } };
  const s = decide(promoted(ANALYSIS), { ...onGreen, analysis: fatal, now: at(1_000) }).step;
  assert.equal(s.kind === "Promoted" && s.analysis?.allPassed, false);
});

test("rollback: switched back while previous exists; impossible when it is gone or there was none; refused when the alias moved on", () => {
  const rb = { rollback: true };
  assert.deepEqual(decide(promoted(rb, PROMOTED, 2), onGreen).step, { kind: "Switch", from: GREEN, to: BLUE, reason: "Rollback", message: `Rolled back alias ${ALIAS} to ${BLUE} (from ${GREEN})` });
  const gone = decide(promoted(rb, { ...PROMOTED, previousDeletedAt: iso(0) }, 2), { ...onGreen, qdrant: { aliasTarget: GREEN, previous: { name: BLUE, exists: false } } }).step;
  assert.equal(gone.kind === "Wait" && gone.reason, "RollbackImpossible");
  assert.match(gone.kind === "Wait" ? gone.message : "", /^spec\.rollback: the previous collection policies_v1 is gone \(deleted at/);
  const none = decide(promoted(rb, { ...PROMOTED, previousCollection: undefined, activeCollection: "" }, 2), onGreen).step;
  assert.equal(none.kind === "Wait" && none.reason, "RollbackImpossible");
  const moved = decide(promoted(rb, PROMOTED, 2), { qdrant: { aliasTarget: "policies_v3" } }).step;
  assert.equal(moved.kind === "Wait" && moved.reason, "AliasMoved");
  assert.equal(moved.kind === "Wait" && moved.phase, "Promoted");
  // Killed after the rollback's switch, before the status write: RolledBack, adopted (no second switch).
  assert.deepEqual(decide(promoted(rb, PROMOTED, 2), { qdrant: { aliasTarget: BLUE } }).step, { kind: "RolledBack", reason: "RolledBack", message: `Alias ${ALIAS} points back at ${BLUE} (spec.rollback).`, adopted: true });
  // Rolled back is final.
  assert.deepEqual(decide(promoted(rb, { ...PROMOTED, phase: "RolledBack" }, 2)), { step: { kind: "Done" }, needs: [] });
});

test("abort before promotion: nothing begun → Aborted without looking; begun → the Job stopped, green deleted only if ours", () => {
  assert.deepEqual(decide(rollout({ abort: true })), { step: { kind: "Abort", deleteGreen: false, message: "Aborted before it began; nothing was made." }, needs: [] });
  // Even when another rollout holds the alias: no Qdrant.
  assert.deepEqual(decide(rollout({ abort: true }, { phase: "Pending" }), { holder: { namespace: "prod", name: "v3" } }).needs, []);
  const r = rollout({ abort: true }, { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1 }, 2);
  const ours = decide(r, { job: { phase: "Running" }, green: { exists: true, owner: OURS } });
  assert.deepEqual(ours.needs, ["unrecorded", "job", "references", "qdrant"]);
  assert.equal(ours.step.kind, "Abort");
  if (ours.step.kind === "Abort") {
    assert.equal(ours.step.deleteJob, "rollout-v2-1");
    assert.equal(ours.step.deleteGreen, true);
    assert.equal(ours.step.message, "Aborted before promotion: the abort deletes Job rollout-v2-1, collection policies_v2 (this rollout made it); alias policies_production is untouched.");
  }
  const stranger = decide(r, { job: { phase: "Succeeded" }, green: { exists: true, owner: STRANGER } }).step;
  assert.equal(stranger.kind === "Abort" && stranger.deleteGreen, false);
  assert.equal(stranger.kind === "Abort" && stranger.deleteJob, undefined);
  assert.equal(stranger.kind === "Abort" && stranger.message, "Aborted before promotion: the abort keeps collection policies_v2 (this rollout did not create it, or it does not exist); alias policies_production is untouched.");
  // Failed, edited (a new run), then waiting in Pending for another holder: it began once, so its stamped green is deleted.
  const pending = decide(rollout({ abort: true }, { ...BEGUN, phase: "Pending", jobCount: 1, observedGeneration: 2 }, 3), { green: { exists: true, owner: OURS } });
  assert.deepEqual(pending.step.kind === "Abort" && [pending.step.deleteGreen, pending.needs], [true, ["references", "qdrant"]]);
  // A Failed rollout aborted: green (ours) deleted too.
  assert.equal((decide(rollout({ abort: true }, { ...BEGUN, phase: "Failed", observedGeneration: 1 }, 2), { green: { exists: true, owner: OURS } }).step as { deleteGreen?: boolean }).deleteGreen, true);
  // External without config: green is the user's, Qdrant not even looked at.
  const ext = decide(rollout({ abort: true, source: { external: {} } }, { ...BEGUN, phase: "Validating" }, 2));
  assert.deepEqual(ext.step.kind === "Abort" && [ext.step.deleteGreen, ext.needs], [false, ["unrecorded"]]);
});

test("abort with a fromBackup restore: waits while it runs, deletes a pending one, deletes a green our restore made", () => {
  const spec = { abort: true, source: { fromBackup: { source: { backupRef: { name: "nightly" } } } } };
  const r = rollout(spec, BEGUN, 2);
  const running = decide(r, { restore: { exists: true, ours: true, phase: "Running" }, green: { exists: true } }).step;
  assert.equal(running.kind === "Wait" && running.reason, "Aborting");
  assert.equal(running.kind === "Wait" && running.phase, "Preparing");
  const pending = decide(r, { restore: { exists: true, ours: true, phase: "Pending" } }).step;
  assert.deepEqual(pending.kind === "Abort" && [pending.deleteRestore, pending.deleteGreen], ["rollout-v2", false]);
  const restored = decide(r, { restore: { exists: true, ours: true, phase: "Succeeded", targetCollection: GREEN }, green: { exists: true } }).step;
  assert.equal(restored.kind === "Abort" && restored.deleteGreen, true);
  // Restored from a snapshot of an earlier rollout's green (its owner stamp, not ours yet): our restore made it, deleted.
  const earlier = decide(r, { restore: { exists: true, ours: true, phase: "Succeeded", targetCollection: GREEN }, green: { exists: true, owner: STRANGER } }).step;
  assert.equal(earlier.kind === "Abort" && earlier.deleteGreen, true);
  // A restore whose status does not name green exactly made nothing this rollout can delete.
  const unnamed = decide(r, { restore: { exists: true, ours: true, phase: "Succeeded" }, green: { exists: true } }).step;
  assert.equal(unnamed.kind === "Abort" && unnamed.deleteGreen, false);
  // A failed restore cleaned up after itself; an unstamped green is then not ours.
  const failed = decide(r, { restore: { exists: true, ours: true, phase: "Failed" }, green: { exists: true } }).step;
  assert.equal(failed.kind === "Abort" && failed.deleteGreen, false);
});

test("abort after the switch: a lost status write is adopted (green never deleted under the alias); a Promoted rollout ignores abort", () => {
  // The pass was recorded (generation 1), the switch made, its status write lost, then spec.abort set (generation 2).
  const v = rollout({}, { ...BEGUN, phase: "Validating" });
  const r = rollout({ abort: true }, after(v, [{ kind: "Validating", gates: PASSING, message: "all passed", requeueMs: 1 }]), 2);
  assert.deepEqual(decide(r, onGreen).step, { kind: "Promoted", previous: BLUE, adopted: true });
  // Someone else pointed the alias at green before the gates passed: not adopted; aborted, green kept under the alias.
  const outside = decide(rollout({ abort: true }, { ...BEGUN, phase: "Validating" }, 2), onGreen).step;
  assert.deepEqual([outside.kind, outside.kind === "Abort" && outside.deleteGreen], ["Abort", false]);
  const ignored = decide(promoted({ abort: true }, PROMOTED, 2)).step;
  assert.equal(ignored.kind === "Wait" && ignored.reason, "AbortIgnored");
  assert.equal(ignored.kind === "Wait" && ignored.phase, "Promoted");
  assert.match(ignored.kind === "Wait" ? ignored.message : "", /^spec\.abort: abort applies before promotion; .*Set spec\.rollback: true to point it back at policies_v1\.$/);
  const noted = promoted({ abort: true }, after(promoted({ abort: true }, PROMOTED, 2), [ignored]), 2);
  assert.deepEqual(decide(noted), { step: { kind: "Done" }, needs: [] });
  // abort set back to false: Ready says Promoted again, once.
  const cleared = decide(promoted({}, noted.status, 3)).step;
  assert.equal(cleared.kind, "Promoted");
  assert.deepEqual(decide(promoted({}, after(promoted({}, noted.status, 3), [cleared]), 3)).step, { kind: "Done" });
});

test("a rollback found impossible is said once at its generation, then Done (no look at Qdrant every 30 s); a spec change tries again", () => {
  const rb = promoted({ rollback: true }, { ...PROMOTED, previousCollection: undefined, activeCollection: "" }, 2);
  const said = promoted(rb.spec, after(rb, [decide(rb, onGreen).step]), 2);
  assert.equal(said.status?.conditions?.find((c) => c.type === "Ready")?.reason, "RollbackImpossible");
  assert.deepEqual(decide(said), { step: { kind: "Done" }, needs: [] });
  assert.equal(decide(promoted(said.spec, said.status, 3), onGreen).step.kind, "Wait");
});

test("a Promoted status whose Ready a Wait wrote is said again once; one written without the spec is not rewritten over and over", () => {
  const waited = promoted({}, after(promoted(), [{ kind: "Wait", phase: "Promoted", reason: "QdrantUnreachable", message: "down", requeueMs: 1 }]));
  const again = decide(waited);
  assert.deepEqual(again, { step: { kind: "Promoted", previous: BLUE, adopted: false }, needs: [] });
  assert.deepEqual(decide(promoted({}, after(waited, [again.step]))).step, { kind: "Done" });
  // The controller wrote the switch's status without the spec: Ready says Promoted while the analysis runs; no refresh loop.
  const r = promoted(ANALYSIS, { ...PROMOTED, phase: "Validating" });
  const bare = statusFor(r.status, { kind: "Promoted", previous: BLUE, adopted: false }, { generation: 1, now: at(0) });
  const checked = statusFor(bare, { kind: "Promoted", previous: BLUE, adopted: false, analysis: PASSING }, { generation: 1, now: at(0) });
  assert.deepEqual(decide(promoted(ANALYSIS, checked), { now: at(1_000) }), { step: { kind: "Done", requeueMs: 4_000 }, needs: [] });
});

test("a switch-back found impossible (previous deleted by hand during the analysis) is said once, not polled", () => {
  const r = promoted(ANALYSIS, { ...PROMOTED, analysis: { passed: false, results: FAILING.results, lastCheckTime: iso(0), endTime: iso(0) } });
  const gone = { qdrant: { aliasTarget: GREEN, previous: { name: BLUE, exists: false } } };
  const said = decide(r, { ...gone, now: at(1_000) }).step;
  assert.equal(said.kind === "Wait" && said.reason, "RollbackImpossible");
  assert.deepEqual(decide(promoted(ANALYSIS, after(r, [said]))), { step: { kind: "Done" }, needs: [] });
});

test("a rollback or switch-back under a later rollout of the alias (it holds it): Wait WaitingForAlias naming it, the alias untouched", () => {
  // A promoted v1 → v2 (analysis over); B (v2 → v3) is Validating and holds the alias; A.spec.rollback set.
  const b = { namespace: "prod", name: "v3" };
  const rb = decide(promoted({ rollback: true }, PROMOTED, 2), { ...onGreen, holder: b });
  assert.equal(rb.step.kind, "Wait");
  assert.ok(rb.needs.includes("holder"));
  if (rb.step.kind === "Wait") {
    assert.deepEqual([rb.step.reason, rb.step.phase], ["WaitingForAlias", "Promoted"]);
    assert.equal(rb.step.message, `spec.rollback: superseded by CollectionRollout prod/v3, which is rolling out alias ${ALIAS} on the same Qdrant; alias ${ALIAS} is not switched back to ${BLUE} under it (looked at again when it is Promoted, RolledBack, Failed or Aborted)`);
  }
  // The switch-back of a failed analysis: the same.
  const failed = promoted(ANALYSIS, { ...PROMOTED, analysis: { passed: false, results: FAILING.results, lastCheckTime: iso(0), endTime: iso(0) } });
  const back = decide(failed, { ...onGreen, holder: b, now: at(1_000) }).step;
  assert.equal(back.kind === "Wait" && back.reason, "WaitingForAlias");
  assert.match(back.kind === "Wait" ? back.message : "", /^spec\.analysis\.switchBackOnFailure: superseded by CollectionRollout prod\/v3/);
  // The holder is this rollout itself, or none: switched.
  assert.equal(decide(promoted({ rollback: true }, PROMOTED, 2), { ...onGreen, holder: { namespace: "prod", name: "v2" } }).step.kind, "Switch");
  // Nothing due: the holder is not even asked for.
  assert.ok(!decide(promoted()).needs.includes("holder"));
});
