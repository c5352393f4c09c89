/**
 * decideRollout while judging green: the gates' rows, their timeout under an injected clock, the gate Job,
 * manual approval, backupActiveFirst and the switch; every failure leaves the alias where it was.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GATE_RECHECK_MS, RECORDED_MS, WAIT_MS } from "../../../src/controllers/rollout/decide.ts";
import type { RolloutStep } from "../../../src/controllers/rollout/steps.ts";
import { after, ALIAS, at, BEGUN, BLUE, decide, FAILING, GREEN, iso, NOW, OURS, PASSING, rollout } from "./decide-world.ts";

/** Judging since NOW at generation 1 (the first evaluation wrote gatesStartTime and GatesPassed, not passed). */
const VALIDATING = {
  ...BEGUN,
  phase: "Validating" as const,
  gatesStartTime: iso(0),
  conditions: [{ type: "GatesPassed", status: "False" as const, reason: "GatesNotPassed", message: "Gates not passed: …", lastTransitionTime: iso(0), observedGeneration: 1 }],
};
const ourGreen = { green: { exists: true, owner: OURS } };
const GATE_JOB = { gates: { job: { image: "registry.example/check:1" } } };

test("Validating: the gates' rows with the failing numbers, evaluated again every GATE_RECHECK_MS", () => {
  const { step, needs } = decide(rollout({}, VALIDATING), { ...ourGreen, gates: FAILING, now: at(60_000) });
  assert.deepEqual(needs, ["unrecorded", "holder", "references", "qdrant", "gates"]);
  assert.deepEqual(step, { kind: "Validating", gates: FAILING, message: "Gates not passed yet: minPoints 800 points < 1000; goldenQuery/top overlap 0.60 (6/10) < 0.80.", requeueMs: GATE_RECHECK_MS });
  // Close to the deadline: requeued for it.
  const near = decide(rollout({}, VALIDATING), { ...ourGreen, gates: FAILING, now: at(3_600_000 - 2_000) }).step;
  assert.equal(near.kind === "Validating" && near.requeueMs, 2_000);
});

test("gates.timeout (default 1h from gatesStartTime): Fail GatesTimedOut with the numbers, alias untouched, green kept", () => {
  const { step } = decide(rollout({}, VALIDATING), { ...ourGreen, gates: FAILING, now: at(3_600_000) });
  assert.equal(step.kind, "Fail");
  if (step.kind !== "Fail") return;
  assert.equal(step.reason, "GatesTimedOut");
  assert.equal(
    step.message,
    "spec.gates.timeout: gates not passed within 60m (since 2026-03-01T12:00:00.000Z): minPoints 800 points < 1000; goldenQuery/top overlap 0.60 (6/10) < 0.80; alias policies_production is untouched and collection policies_v2 is kept",
  );
  assert.deepEqual(step.gates?.results, FAILING.results);
  // A shorter timeout, and the first evaluation with no gatesStartTime yet counts from now.
  assert.equal(decide(rollout({ gates: { timeout: "5m" } }, VALIDATING), { ...ourGreen, gates: FAILING, now: at(300_000) }).step.kind, "Fail");
  assert.equal(decide(rollout({ gates: { timeout: "5m" } }, { ...VALIDATING, gatesStartTime: undefined }), { ...ourGreen, gates: FAILING, now: at(300_000) }).step.kind, "Validating");
  // Not yet: Validating.
  assert.equal(decide(rollout({}, VALIDATING), { ...ourGreen, gates: FAILING, now: at(3_599_999) }).step.kind, "Validating");
});

test("a golden query Qdrant refuses fails at once (GoldenQueryRefused), whatever the timeout", () => {
  const fatal = { ...FAILING, fatal: { reason: "GoldenQueryRefused", message: "spec.gates.goldenQueries[top].query: Qdrant refused it: Wrong input: Vector dimension error: expected dim: 8, got 4" } };
  const { step } = decide(rollout({}, VALIDATING), { ...ourGreen, gates: fatal });
  assert.equal(step.kind === "Fail" && step.reason, "GoldenQueryRefused");
  assert.match(step.kind === "Fail" ? step.message : "", /^spec\.gates\.goldenQueries\[top\]\.query: .*expected dim: 8, got 4; alias policies_production is untouched/);
});

test("every gate passed: the pass is recorded first, then the next reconcile switches (once) without judging again", () => {
  const r = rollout({}, VALIDATING);
  const first = decide(r, { ...ourGreen, gates: PASSING }).step;
  assert.deepEqual(first, { kind: "Validating", gates: PASSING, message: "all 2 gates passed; promoting.", requeueMs: RECORDED_MS });
  const recorded = rollout({}, after(r, [first]));
  const next = decide(recorded, ourGreen);
  assert.deepEqual(next.step, { kind: "Switch", from: BLUE, to: GREEN, reason: "Promote", message: `Switched alias ${ALIAS} to ${GREEN} (from ${BLUE})` });
  assert.ok(!next.needs.includes("gates"));
  // The spec edited since (a new generation): judged again.
  assert.equal(decide(rollout({}, recorded.status, 2), { ...ourGreen, gates: FAILING }).step.kind, "Validating");
  // No alias before: the switch creates it.
  const noAlias = rollout({}, { ...recorded.status, activeCollection: "" });
  assert.equal((decide(noAlias, { qdrant: { aliasTarget: null }, ...ourGreen }).step as { from?: unknown }).from, null);
});

test("green gone or not ours when judged: Fail GreenMissing (ours) / Wait GreenMissing (external) / Wait GreenExists", () => {
  assert.equal((decide(rollout({}, VALIDATING)).step as { reason?: string; kind: string }).kind, "Fail");
  assert.equal((decide(rollout({}, VALIDATING)).step as { reason?: string }).reason, "GreenMissing");
  assert.equal(decide(rollout({ source: { external: {} } }, VALIDATING)).step.kind, "Wait");
  assert.equal((decide(rollout({}, VALIDATING), { green: { exists: true } }).step as { reason?: string }).reason, "GreenExists");
});

test("the gate Job: started once the Qdrant gates pass; running → Validating; exit 0 → recorded; failed, killed or deleted → Fail", () => {
  const r = rollout(GATE_JOB, { ...VALIDATING, jobCount: 1 });
  const start = decide(r, { ...ourGreen, gates: PASSING }).step;
  assert.deepEqual(start, { kind: "StartGateJob", n: 2, jobName: "rollout-v2-2", gates: PASSING });
  const started = rollout(GATE_JOB, after(r, [start]));
  assert.equal(started.status?.jobName, "rollout-v2-2");
  const running = decide(started, { ...ourGreen, job: { phase: "Running" }, now: at(60_000) });
  assert.ok(!running.needs.includes("gates"), "the Qdrant gates are not judged again while the gate Job runs");
  assert.equal(running.step.kind, "Validating");
  assert.equal(running.step.kind === "Validating" && running.step.requeueMs, WAIT_MS);
  // Past the timeout while it runs: Fail, the Job deleted.
  const late = decide(started, { ...ourGreen, job: { phase: "Running" }, now: at(3_600_000) }).step;
  assert.equal(late.kind === "Fail" && late.reason, "GatesTimedOut");
  assert.equal(late.kind === "Fail" && late.deleteJob, "rollout-v2-2");
  const ok = decide(started, { ...ourGreen, job: { phase: "Succeeded" } }).step;
  assert.equal(ok.kind, "Validating");
  if (ok.kind === "Validating") {
    assert.equal(ok.gates.allPassed, true);
    assert.deepEqual(ok.gates.results.find((x) => x.name === "job")?.passed, true);
    assert.equal(decide(rollout(GATE_JOB, after(started, [ok])), ourGreen).step.kind, "Switch");
  }
  for (const job of [{ phase: "Failed" as const, reason: "Error", message: "exit code 3", retryable: false }, { phase: "Missing" as const }]) {
    const s = decide(started, { ...ourGreen, job }).step;
    assert.equal(s.kind === "Fail" && s.reason, "GateJobFailed");
    assert.match(s.kind === "Fail" ? s.message : "", /^spec\.gates\.job: gate Job rollout-v2-2 (failed \(Error: exit code 3\)|was deleted before it finished); its verdict is no/);
    assert.equal(s.kind === "Fail" && s.gates?.results.find((x) => x.name === "job")?.passed, false);
  }
});

test("Manual promotion: AwaitingPromotion until approved; approved (a new generation) → judged once more → Switch", () => {
  const manual = { promotion: { mode: "Manual" as const } };
  const r = rollout(manual, VALIDATING);
  const recorded = after(r, [decide(r, { ...ourGreen, gates: PASSING }).step]);
  const wait = decide(rollout(manual, recorded), ourGreen).step;
  assert.equal(wait.kind, "AwaitPromotion");
  const awaiting = after(rollout(manual, recorded), [wait]);
  assert.equal(awaiting.phase, "AwaitingPromotion");
  assert.deepEqual(decide(rollout(manual, awaiting), ourGreen).step, { kind: "AwaitPromotion" });
  // Approval is a spec edit (generation 2): green is judged once more, then switched when it still passes.
  const approvedSpec = { promotion: { mode: "Manual" as const, approved: true } };
  const approved = decide(rollout(approvedSpec, awaiting, 2), { ...ourGreen, gates: PASSING });
  assert.deepEqual(approved.step, { kind: "Validating", gates: PASSING, message: "all 2 gates passed; promoting.", requeueMs: RECORDED_MS });
  assert.equal(decide(rollout(approvedSpec, after(rollout(approvedSpec, awaiting, 2), [approved.step]), 2), ourGreen).step.kind, "Switch");
  // It no longer passes: not switched (judged like any evaluation, its timeout counted from now).
  assert.equal(decide(rollout(approvedSpec, awaiting, 2), { ...ourGreen, gates: FAILING, now: at(5 * 3_600_000) }).step.kind, "Validating");
  // Approved before the gates passed: no stop in AwaitingPromotion.
  const early = rollout({ promotion: { mode: "Manual", approved: true } }, VALIDATING);
  assert.equal(decide(rollout(early.spec, after(early, [decide(early, { ...ourGreen, gates: PASSING }).step])), ourGreen).step.kind, "Switch");
});

test("backupActiveFirst: the backup of blue must succeed before the switch; without blue there is nothing to back up", () => {
  const spec = { promotion: { mode: "Auto" as const, backupActiveFirst: { locationRef: { name: "s3" } } } };
  const r0 = rollout(spec, VALIDATING);
  const recorded = rollout(spec, after(r0, [decide(r0, { ...ourGreen, gates: PASSING }).step]));
  assert.deepEqual(decide(recorded, ourGreen).step, { kind: "CreateBackup", name: "rollout-v2-9f1b2c3d-before-switch", collection: BLUE });
  const running = decide(recorded, { ...ourGreen, backup: { exists: true, ours: true, collections: [BLUE], phase: "Running" } }).step;
  assert.equal(running.kind === "Wait" && running.reason, "BackingUpActive");
  assert.equal(running.kind === "Wait" && running.phase, "Validating");
  assert.equal(decide(recorded, { ...ourGreen, backup: { exists: true, ours: true, collections: [BLUE], phase: "Succeeded" } }).step.kind, "Switch");
  const failed = decide(recorded, { ...ourGreen, backup: { exists: true, ours: true, collections: [BLUE], phase: "Failed", reason: "StorageUnreachable", message: "connect ETIMEDOUT" } }).step;
  assert.equal(failed.kind === "Fail" && failed.reason, "BackupBeforeSwitchFailed");
  assert.match(failed.kind === "Fail" ? failed.message : "", /StorageUnreachable: connect ETIMEDOUT\); alias policies_production was not switched$/);
  // Our backup, of another collection than the active one (the active one changed since it was made), or of none named.
  for (const collections of [["policies_v0"], [BLUE, "policies_v0"], undefined]) {
    const other = decide(recorded, { ...ourGreen, backup: { exists: true, ours: true, phase: "Succeeded", ...(collections ? { collections } : {}) } }).step;
    assert.equal(other.kind === "Fail" && other.reason, "BackupBeforeSwitchFailed", String(collections));
    assert.match(other.kind === "Fail" ? other.message : "", /^spec\.promotion\.backupActiveFirst: QdrantBackup rollout-v2-9f1b2c3d-before-switch backs up .*, not the active collection policies_v1 \(the active collection changed since it was created\); alias policies_production was not switched$/);
  }
  const stranger = decide(recorded, { ...ourGreen, backup: { exists: true, ours: false } }).step;
  assert.match(stranger.kind === "Fail" ? stranger.message : "", /exists and is not this rollout's/);
  const noBlue = rollout(spec, { ...recorded.status, activeCollection: "" });
  const direct = decide(noBlue, { qdrant: { aliasTarget: null }, ...ourGreen });
  assert.equal(direct.step.kind, "Switch");
  assert.ok(!direct.needs.includes("backup"));
});

test("the alias moved by someone else before the switch: Wait AliasMoved, never switched over their change", () => {
  const r0 = rollout({}, VALIDATING);
  const recorded = rollout({}, after(r0, [decide(r0, { ...ourGreen, gates: PASSING }).step]));
  const moved: RolloutStep = decide(recorded, { qdrant: { aliasTarget: "policies_v1b" }, ...ourGreen }).step;
  assert.equal(moved.kind === "Wait" && moved.reason, "AliasMoved");
  assert.match(moved.kind === "Wait" ? moved.message : "", /^spec\.alias: alias policies_production points at policies_v1b, not at policies_v1/);
  void NOW;
});

test("Qdrant unreachable while judging: the rows kept, Wait until the deadline, then GatesTimedOut (nothing asked of Qdrant)", () => {
  const down = { reachable: false as const, reason: "QdrantUnreachable", message: "connect ECONNREFUSED" };
  const r = rollout({}, { ...VALIDATING, gates: FAILING.results });
  assert.deepEqual(decide(r, { qdrant: down, now: at(60_000) }).step, { kind: "Wait", phase: "Validating", reason: "QdrantUnreachable", message: "connect ECONNREFUSED", requeueMs: WAIT_MS });
  assert.equal((decide(r, { qdrant: down, now: at(3_600_000 - 10_000) }).step as { requeueMs?: number }).requeueMs, 10_000);
  const late = decide(r, { qdrant: down, now: at(3_600_000) }).step;
  assert.equal(late.kind === "Fail" && late.reason, "GatesTimedOut");
  assert.match(late.kind === "Fail" ? late.message : "", /the last evaluation: minPoints 800 points < 1000; .*then Qdrant did not answer \(connect ECONNREFUSED\)/);
  // A pass already recorded is not undone by an unreachable Qdrant: it waits to switch.
  const recorded = rollout({}, after(r, [{ kind: "Validating", gates: PASSING, message: "ok", requeueMs: 1 }]));
  assert.equal(decide(recorded, { qdrant: down, now: at(3_600_000) }).step.kind, "Wait");
});

test("the alias put on green by someone else before this rollout could have switched: Wait AliasMoved, not adopted as a promotion", () => {
  const onGreen = { qdrant: { aliasTarget: GREEN }, ...ourGreen };
  const pass: RolloutStep = { kind: "Validating", gates: PASSING, message: "all passed", requeueMs: RECORDED_MS };
  const moved = (step: RolloutStep, why: RegExp) => {
    assert.equal(step.kind === "Wait" && step.reason, "AliasMoved", JSON.stringify(step));
    assert.match(step.kind === "Wait" ? step.message : "", /^spec\.alias: alias policies_production points at policies_v2, and this rollout did not switch it: someone else pointed/);
    assert.match(step.kind === "Wait" ? step.message : "", why);
  };
  // Validating, the gates not passed (none recorded, or failing): someone else's switch.
  moved(decide(rollout({}, VALIDATING), onGreen).step, /before the gates passed/);
  moved(decide(rollout({}, after(rollout({}, VALIDATING), [{ ...pass, gates: FAILING }])), onGreen).step, /before the gates passed/);
  // Manual: passed but not approved (Validating or AwaitingPromotion).
  const manual = { promotion: { mode: "Manual" as const } };
  const passedManual = after(rollout(manual, VALIDATING), [pass]);
  moved(decide(rollout(manual, passedManual), onGreen).step, /before spec\.promotion\.approved/);
  const awaiting = after(rollout(manual, passedManual), [{ kind: "AwaitPromotion" }]);
  moved(decide(rollout(manual, awaiting), onGreen).step, /before spec\.promotion\.approved/);
  // backupActiveFirst: the backup not (yet) succeeded.
  const backedUp = { promotion: { mode: "Auto" as const, backupActiveFirst: { locationRef: { name: "s3" } } } };
  const passedBackup = after(rollout(backedUp, VALIDATING), [pass]);
  moved(decide(rollout(backedUp, passedBackup), { ...onGreen, backup: { exists: true, ours: true, collections: [BLUE], phase: "Running" } }).step, /before the backup of policies_v1/);
  moved(decide(rollout(backedUp, passedBackup), onGreen).step, /before the backup of policies_v1/);
  // What this rollout does switch on holds: its own switch after a lost status write, adopted.
  const adopted = decide(rollout(backedUp, passedBackup), { ...onGreen, backup: { exists: true, ours: true, collections: [BLUE], phase: "Succeeded" } });
  assert.deepEqual(adopted.step, { kind: "Promoted", previous: BLUE, adopted: true });
  assert.ok(adopted.needs.includes("backup"));
  assert.deepEqual(decide(rollout({ promotion: { mode: "Manual", approved: true } }, passedManual, 2), onGreen).step, { kind: "Promoted", previous: BLUE, adopted: true });
});

test("an edited spec is judged again: a pass or a gate Job's verdict counts at the generation it was recorded only", () => {
  // Validating with the pass recorded at generation 1, the spec edited (generation 2): the Qdrant gates judged again.
  const r = rollout({}, VALIDATING);
  const recorded = after(r, [{ kind: "Validating", gates: PASSING, message: "ok", requeueMs: RECORDED_MS }]);
  const edited = decide(rollout({}, recorded, 2), { ...ourGreen, gates: FAILING, now: at(2 * 3_600_000) });
  assert.ok(edited.needs.includes("gates"));
  // Past the first generation's timeout, the first evaluation at generation 2 starts its own: not failed.
  assert.equal(edited.step.kind, "Validating");
  const rejudged = after(rollout({}, recorded, 2), [edited.step, at(2 * 3_600_000)]);
  assert.equal(rejudged.gatesStartTime, iso(2 * 3_600_000));
  assert.equal(decide(rollout({}, rejudged, 2), { ...ourGreen, gates: FAILING, now: at(3 * 3_600_000) }).step.kind, "Fail");
  // The gate Job succeeded at generation 1; the spec edited: its verdict is not re-recorded as a pass at
  // generation 2 — the Qdrant gates are judged again, then a new gate Job.
  const g = rollout(GATE_JOB, { ...VALIDATING, jobCount: 1 });
  const started = after(g, [{ kind: "StartGateJob", n: 2, jobName: "rollout-v2-2", gates: PASSING }]);
  const again = decide(rollout(GATE_JOB, started, 2), { ...ourGreen, job: { phase: "Succeeded" }, gates: PASSING });
  assert.deepEqual(again.step, { kind: "StartGateJob", n: 3, jobName: "rollout-v2-3", gates: PASSING });
  assert.ok(!again.needs.includes("job"));
  // AwaitingPromotion, the gates edited (not approved): judged again, then back to AwaitingPromotion.
  const manual = { promotion: { mode: "Manual" as const } };
  const awaiting = after(rollout(manual, recorded), [{ kind: "AwaitPromotion" }]);
  assert.equal(decide(rollout(manual, awaiting), ourGreen).step.kind, "AwaitPromotion");
  const step = decide(rollout(manual, awaiting, 2), { ...ourGreen, gates: PASSING }).step;
  assert.equal(step.kind, "Validating");
  assert.equal(decide(rollout(manual, after(rollout(manual, awaiting, 2), [step]), 2), ourGreen).step.kind, "AwaitPromotion");
});
