/**
 * decideRollout before the switch: begin, the holder, bad input, building per source, the crash windows
 * the design names, and what each asks to observe. The gates, promotion and after are in
 * decide-gates.test.ts and decide-promoted.test.ts.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILDING_RECHECK_MS, retryDelayMs, WAIT_MS } from "../../../src/controllers/rollout/decide.ts";
import type { CopyProgress } from "../../../src/jobs/copy/contract.ts";
import { after, ALIAS, at, BEGUN, BLUE, decide, GREEN, iso, NOW, OURS, PASSING, rollout, STRANGER } from "./decide-world.ts";

const copying = (copied: number, over: Partial<CopyProgress> = {}): CopyProgress => ({ copied, total: 1000, nextOffset: copied, done: false, attempt: 1, ...over });

test("a new rollout asks for the holder, the references and Qdrant, then records blue (Begin)", () => {
  assert.deepEqual(decide(rollout()), { step: { kind: "Begin", activeCollection: BLUE }, needs: ["holder", "references", "qdrant"] });
  // No alias yet: blue is nothing; the first switch creates the alias.
  assert.deepEqual(decide(rollout(), { qdrant: { aliasTarget: null } }).step, { kind: "Begin", activeCollection: null });
  // The holder is this rollout itself: go on.
  assert.equal(decide(rollout(), { holder: { namespace: "prod", name: "v2" } }).step.kind, "Begin");
});

test("another rollout holding the alias: Wait WaitingForAlias naming it, Pending, Qdrant never looked at", () => {
  const { step, needs } = decide(rollout(), { holder: { namespace: "prod", name: "v3" } });
  assert.deepEqual(needs, ["holder"]);
  assert.equal(step.kind, "Wait");
  if (step.kind !== "Wait") return;
  assert.equal(step.phase, "Pending");
  assert.equal(step.reason, "WaitingForAlias");
  assert.equal(step.message, `CollectionRollout prod/v3 is rolling out alias ${ALIAS} on the same Qdrant; this rollout starts when it is Promoted, RolledBack, Failed or Aborted`);
  assert.equal(step.requeueMs, WAIT_MS);
  // A begun rollout that finds another holder keeps its phase (and still does not touch Qdrant).
  const begun = decide(rollout({}, { ...BEGUN, phase: "Validating" }), { holder: { namespace: "prod", name: "v3" } });
  assert.deepEqual(begun.needs, ["unrecorded", "holder"]);
  assert.equal(begun.step.kind === "Wait" && begun.step.phase, "Validating");
});

test("bad input: each a condition naming the field, the alias untouched", () => {
  const invalid = decide(rollout({ source: { copyFrom: { collection: GREEN } } }));
  assert.equal(invalid.step.kind, "Invalid");
  assert.deepEqual(invalid.needs, []);
  assert.match(invalid.step.kind === "Invalid" ? invalid.step.message : "", /^spec\.source\.copyFrom\.collection: policies_v2 is spec\.collection/);

  const refs = decide(rollout(), { references: { ok: false, reason: "ReferenceNotFound", message: "spec.connectionRef: QdrantConnection prod/qdrant does not exist" } });
  assert.deepEqual(refs.step, { kind: "Wait", phase: "Pending", reason: "ReferenceNotFound", message: "spec.connectionRef: QdrantConnection prod/qdrant does not exist", requeueMs: WAIT_MS });

  const aliasIsCollection = decide(rollout(), { qdrant: { aliasTarget: null, aliasIsCollection: true } }).step;
  assert.equal(aliasIsCollection.kind === "Wait" && aliasIsCollection.reason, "AliasIsCollection");
  assert.match(aliasIsCollection.kind === "Wait" ? aliasIsCollection.message : "", /^spec\.alias: policies_production is the name of a collection/);

  const greenIsAlias = decide(rollout(), { green: { aliasOf: "policies_v0" } }).step;
  assert.equal(greenIsAlias.kind === "Wait" && greenIsAlias.reason, "GreenIsAlias");
  assert.match(greenIsAlias.kind === "Wait" ? greenIsAlias.message : "", /^spec\.collection: policies_v2 is an alias \(of collection policies_v0\)/);

  const active = decide(rollout(), { qdrant: { aliasTarget: GREEN }, green: { exists: true } }).step;
  assert.equal(active.kind, "Fail");
  assert.equal(active.kind === "Fail" && active.reason, "GreenIsActive");
  assert.match(active.kind === "Fail" ? active.message : "", /^spec\.collection: alias policies_production already points at policies_v2/);
});

test("Qdrant unreachable: Wait with the connection's words, the phase kept", () => {
  const down = { reachable: false as const, reason: "QdrantUnreachable", message: "spec.connectionRef: QdrantConnection prod/qdrant: connect ECONNREFUSED" };
  assert.deepEqual(decide(rollout({}, { ...BEGUN, phase: "Validating" }), { qdrant: down }).step, { kind: "Wait", phase: "Validating", reason: down.reason, message: down.message, requeueMs: WAIT_MS });
  assert.equal((decide(rollout(), { qdrant: down }).step as { phase?: string }).phase, "Pending");
});

test("copyFrom: green created like its source (or with the config), stamped; then the copy Job, numbered after jobCount", () => {
  assert.deepEqual(decide(rollout({}, BEGUN)), { step: { kind: "CreateGreen", source: BLUE, field: "spec.source.copyFrom" }, needs: ["unrecorded", "holder", "references", "qdrant"] });
  const config = { vectors: { size: 8, distance: "Cosine" } };
  assert.deepEqual(decide(rollout({ source: { copyFrom: { config } } }, BEGUN)).step, { kind: "CreateGreen", config, source: BLUE, field: "spec.source.copyFrom.config" });
  // Crash window: killed after CreateGreen, before its status: green carries our stamp → adopted, the copy starts.
  assert.deepEqual(decide(rollout({}, { ...BEGUN, jobCount: 2 }), { green: { exists: true, owner: OURS } }).step, { kind: "StartCopy", n: 3, jobName: "rollout-v2-3", attempt: 1, source: BLUE });
  // Named source; resume from green's record over the status mirror.
  const named = decide(rollout({ source: { copyFrom: { collection: "policies_v1_archive" } } }, { ...BEGUN, copy: { copiedPoints: 100, nextOffset: 100 } }), {
    qdrant: { source: { name: "policies_v1_archive", exists: true } },
    green: { exists: true, owner: OURS, copy: copying(300) },
  }).step;
  assert.deepEqual(named, { kind: "StartCopy", n: 1, jobName: "rollout-v2-1", attempt: 1, source: "policies_v1_archive", resumeFrom: 300 });
  // No record in green: nothing was copied into this green (the Job writes its record before its first
  // page), so it starts from nothing, whatever an earlier green's mirror in the status says.
  const fresh = decide(rollout({}, { ...BEGUN, copy: { copiedPoints: 100, nextOffset: 100 } }), { green: { exists: true, owner: OURS } }).step;
  assert.deepEqual(fresh, { kind: "StartCopy", n: 1, jobName: "rollout-v2-1", attempt: 1, source: BLUE });
});

test("green deleted while it was being built (a copy Job ran into it): Fail GreenMissing, never made again from the old figures", () => {
  const failedJob = { phase: "Failed" as const, reason: "CopyFailed", message: "reset", retryable: true, completionTime: NOW.toISOString(), attempt: 1 };
  const cases = [
    { status: { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1, copy: { copiedPoints: 400, nextOffset: 400 } }, job: failedJob, deleteJob: undefined },
    { status: { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1 }, job: { phase: "Running" as const }, deleteJob: "rollout-v2-1" },
    { status: { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1 }, job: { phase: "Succeeded" as const }, deleteJob: undefined },
    { status: { ...BEGUN, copy: { copiedPoints: 400, nextOffset: 400 } }, job: undefined, deleteJob: undefined },
  ];
  for (const { status, job, deleteJob } of cases) {
    const { step } = decide(rollout({}, status), { ...(job ? { job } : {}), now: at(retryDelayMs(1)) });
    assert.equal(step.kind, "Fail", JSON.stringify(status));
    if (step.kind !== "Fail") continue;
    assert.equal(step.reason, "GreenMissing");
    assert.equal(step.deleteJob, deleteJob);
    assert.match(step.message, /^spec\.collection: collection policies_v2 was deleted while it was being built/);
    assert.match(step.message, /alias policies_production is untouched/);
  }
});

test("a stranger's green (or an unstamped one) is never written to: Wait GreenExists naming spec.collection", () => {
  for (const owner of [STRANGER, undefined]) {
    const { step } = decide(rollout({}, BEGUN), { green: { exists: true, ...(owner ? { owner } : {}) } });
    assert.equal(step.kind, "Wait");
    if (step.kind !== "Wait") continue;
    assert.equal(step.reason, "GreenExists");
    assert.equal(step.phase, "Preparing");
    assert.match(step.message, /^spec\.collection: collection policies_v2 exists on the Qdrant and this rollout did not create it/);
    if (owner) assert.match(step.message, /CollectionRollout prod\/other/);
  }
});

test("copyFrom without a source: Wait SourceNotFound naming the field", () => {
  const none = decide(rollout({}, { ...BEGUN, activeCollection: "" }), { qdrant: { aliasTarget: null, source: undefined } }).step;
  assert.equal(none.kind === "Wait" && none.reason, "SourceNotFound");
  assert.match(none.kind === "Wait" ? none.message : "", /^spec\.source\.copyFrom\.collection: there is no collection to copy from/);
  const gone = decide(rollout({ source: { copyFrom: { collection: "old" } } }, BEGUN), { qdrant: { source: { name: "old", exists: false } } }).step;
  assert.match(gone.kind === "Wait" ? gone.message : "", /^spec\.source\.copyFrom\.collection: collection old does not exist/);
});

test("copy Job: running → Building with green's progress; done (green's record or the Job) → the gates", () => {
  const running = rollout({}, { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1 });
  const { step, needs } = decide(running, { job: { phase: "Running" }, green: { exists: true, owner: OURS, copy: copying(250) } });
  assert.deepEqual(needs, ["unrecorded", "holder", "references", "qdrant", "job"]);
  assert.deepEqual(step, { kind: "Building", message: `Job rollout-v2-1 is copying collection ${BLUE} into ${GREEN}: 250 of 1000 points (25%).`, copy: copying(250), requeueMs: BUILDING_RECHECK_MS });
  // Green's record says done: its figures are written to status.copy once (the Job is not even read), then judged.
  const record = copying(1000, { done: true, nextOffset: undefined });
  const done = decide(running, { green: { exists: true, owner: OURS, copy: record }, gates: PASSING });
  assert.deepEqual(done.step, { kind: "Building", message: `Copied 1000 of 1000 points into collection ${GREEN}; judging it next.`, copy: record, requeueMs: 1 });
  assert.ok(!done.needs.includes("job"));
  const mirrored = rollout({}, { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1, copy: { copiedPoints: 1000, totalPoints: 1000, done: true } });
  assert.equal(decide(mirrored, { green: { exists: true, owner: OURS, copy: record }, gates: PASSING }).step.kind, "Validating");
  // The Job succeeded and green has no record: the Job's own figures are written, then judged.
  const byJob = decide(running, { job: { phase: "Succeeded", copy: { ok: true, copiedPoints: 20, totalPoints: 20, batches: 1, durationSeconds: 1 } }, green: { exists: true, owner: OURS }, gates: PASSING }).step;
  assert.equal(byJob.kind === "Building" && byJob.copy?.copied, 20);
  assert.equal(decide(running, { job: { phase: "Succeeded" }, green: { exists: true, owner: OURS }, gates: PASSING }).step.kind, "Validating");
});

test("copy Job failed: retried after the backoff, resuming from green's record, up to 1 + backoffLimit attempts", () => {
  const r = rollout({}, { ...BEGUN, jobName: "rollout-v2-1", jobCount: 1 });
  const failedAt = NOW.toISOString();
  const job = { phase: "Failed" as const, reason: "CopyFailed", message: "scroll: connect ECONNRESET", retryable: true, completionTime: failedAt, attempt: 1 };
  const green = { exists: true, owner: OURS, copy: copying(400) };
  const early = decide(r, { job, green, now: at(5_000) }).step;
  assert.equal(early.kind, "Wait");
  if (early.kind === "Wait") {
    assert.equal(early.phase, "Preparing");
    assert.equal(early.reason, "CopyFailed");
    assert.equal(early.requeueMs, retryDelayMs(1) - 5_000);
    assert.match(early.message, /^attempt 1 of 4 failed: scroll: connect ECONNRESET; attempt 2 starts at 2026-03-01T12:00:10.000Z$/);
  }
  assert.deepEqual(decide(r, { job, green, now: at(retryDelayMs(1)) }).step, { kind: "StartCopy", n: 2, jobName: "rollout-v2-2", attempt: 2, source: BLUE, resumeFrom: 400 });
  // The last attempt, or a failure retrying cannot fix: Fail, the alias untouched, green kept.
  const last = decide(r, { job: { ...job, attempt: 4 }, green }).step;
  assert.equal(last.kind === "Fail" && last.reason, "CopyFailed");
  assert.match(last.kind === "Fail" ? last.message : "", /\(attempt 4 of 4\); alias policies_production is untouched and collection policies_v2 is kept$/);
  const refused = decide(r, { job: { ...job, reason: "CopyFailed", message: "upsert: 400 wrong vector size", retryable: false }, green }).step;
  assert.equal(refused.kind === "Fail" && refused.message.startsWith("upsert: 400 wrong vector size; alias"), true);
  // backoffLimit 0: one attempt.
  assert.equal(decide(rollout({ job: { backoffLimit: 0 } }, r.status), { job, green }).step.kind, "Fail");
  // A deleted Job is a retryable failure; its attempt is green's record's.
  assert.equal(decide(r, { job: { phase: "Missing" }, green }).step.kind, "StartCopy");
});

test("crash window: a Job created before its status write is adopted first (Preparing and Validating only)", () => {
  const job = { name: "rollout-v2-2", n: 2, kind: "copy" as const, attempt: 2 };
  assert.deepEqual(decide(rollout({}, { ...BEGUN, jobCount: 1 }), { unrecorded: job }), { step: { kind: "Adopt", job }, needs: ["unrecorded"] });
  assert.deepEqual(decide(rollout({}, { ...BEGUN, phase: "Validating" }), { unrecorded: { ...job, kind: "gate" } }).step.kind, "Adopt");
  assert.ok(!decide(rollout()).needs.includes("unrecorded"));
});

test("external: created from config (then ours), or waited for; judged as soon as it exists", () => {
  const config = { vectors: { size: 8, distance: "Cosine" } };
  assert.deepEqual(decide(rollout({ source: { external: { config } } }, BEGUN)).step, { kind: "CreateGreen", config, field: "spec.source.external.config" });
  assert.equal(decide(rollout({ source: { external: { config } } }, BEGUN), { green: { exists: true, owner: OURS }, gates: PASSING }).step.kind, "Validating");
  assert.equal((decide(rollout({ source: { external: { config } } }, BEGUN), { green: { exists: true } }).step as { reason?: string }).reason, "GreenExists");
  const missing = decide(rollout({ source: { external: {} } }, BEGUN)).step;
  assert.equal(missing.kind === "Wait" && missing.reason, "GreenMissing");
  assert.match(missing.kind === "Wait" ? missing.message : "", /^spec\.collection: collection policies_v2 does not exist yet/);
  // Without config green is the user's: any owner (none) is fine.
  assert.equal(decide(rollout({ source: { external: {} } }, BEGUN), { green: { exists: true }, gates: PASSING }).step.kind, "Validating");
});

test("fromBackup: the restore builds green; its failure or a stranger's green is a condition; success is stamped", () => {
  const fb = { fromBackup: { source: { backupRef: { name: "nightly" } } } };
  const r = rollout({ source: fb }, BEGUN);
  assert.deepEqual(decide(r), { step: { kind: "CreateRestore", name: "rollout-v2" }, needs: ["unrecorded", "holder", "references", "qdrant", "restore"] });
  // Green exists and no restore of ours: a stranger's.
  assert.equal((decide(r, { green: { exists: true } }).step as { reason?: string }).reason, "GreenExists");
  // Running (green half-made by it): keep building.
  const building = decide(r, { restore: { exists: true, ours: true, phase: "Running" }, green: { exists: true } }).step;
  assert.equal(building.kind, "Building");
  // The restore refuses an existing collection: GreenExists.
  assert.equal((decide(r, { restore: { exists: true, ours: true, phase: "Pending", reason: "TargetExists", message: "exists" } }).step as { reason?: string }).reason, "GreenExists");
  const failed = decide(r, { restore: { exists: true, ours: true, phase: "Failed", reason: "BackupNotFound", message: "no backup nightly" } }).step;
  assert.equal(failed.kind === "Fail" && failed.reason, "RestoreFailed");
  assert.match(failed.kind === "Fail" ? failed.message : "", /QdrantRestore rollout-v2 failed \(BackupNotFound: no backup nightly\)/);
  assert.deepEqual(decide(r, { restore: { exists: true, ours: true, phase: "Succeeded", targetCollection: GREEN }, green: { exists: true } }).step, { kind: "StampGreen" });
  // The backup was of a collection an earlier rollout built: the snapshot carries that rollout's owner stamp
  // and its done copy record. Our restore succeeded into green, so it is ours by the restore's claim: stamped.
  const earlier = { exists: true, owner: STRANGER, copy: { copied: 1000, total: 1000, done: true, attempt: 1 } };
  assert.deepEqual(decide(r, { restore: { exists: true, ours: true, phase: "Succeeded", targetCollection: GREEN }, green: earlier }).step, { kind: "StampGreen" });
  // A Succeeded restore that does not name green exactly (another collection, or none): not ours, Fail.
  for (const targetCollection of ["policies_v9", undefined]) {
    const other = decide(r, { restore: { exists: true, ours: true, phase: "Succeeded", ...(targetCollection ? { targetCollection } : {}) }, green: { exists: true } }).step;
    assert.equal(other.kind === "Fail" && other.reason, "RestoreFailed", String(targetCollection));
    assert.match(other.kind === "Fail" ? other.message : "", /^spec\.source\.fromBackup: QdrantRestore rollout-v2 restored .*, not policies_v2$/);
  }
  // Stamped: ours, judged (the restore is not even read).
  const stamped = decide(r, { green: { exists: true, owner: OURS }, gates: PASSING });
  assert.equal(stamped.step.kind, "Validating");
  assert.ok(!stamped.needs.includes("restore"));
  assert.equal((decide(r, { restore: { exists: true, ours: false } }).step as { reason?: string }).reason, "RestoreFailed");
});

test("crash windows: killed after Begin (nothing made: creates green), between gates and switch (switches once)", () => {
  assert.equal(decide(rollout({}, BEGUN)).step.kind, "CreateGreen");
  const r0 = rollout({}, { ...BEGUN, phase: "Validating" });
  const recorded = rollout({}, after(r0, [{ kind: "Validating", gates: PASSING, message: "all passed", requeueMs: 1 }]));
  // The pass is recorded: the next reconcile switches without judging again.
  const { step, needs } = decide(recorded, { green: { exists: true, owner: OURS } });
  assert.deepEqual(step, { kind: "Switch", from: BLUE, to: GREEN, reason: "Promote", message: `Switched alias ${ALIAS} to ${GREEN} (from ${BLUE})` });
  assert.ok(!needs.includes("gates"));
  // Killed after the switch, before the status write: the alias already on green → Promoted, adopted, no second switch.
  assert.deepEqual(decide(recorded, { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } }).step, { kind: "Promoted", previous: BLUE, adopted: true });
  assert.deepEqual(decide(rollout({}, { ...recorded.status, phase: "AwaitingPromotion" }), { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } }).step, { kind: "Promoted", previous: BLUE, adopted: true });
  // No alias before: previous is nothing.
  assert.deepEqual(decide(rollout({}, { ...recorded.status, activeCollection: "" }), { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } }).step, { kind: "Promoted", previous: null, adopted: true });
});

test("finished rollouts ask for nothing; a Failed one runs again at a new generation", () => {
  for (const phase of ["Aborted", "RolledBack"] as const) assert.deepEqual(decide(rollout({}, { phase, observedGeneration: 1 })), { step: { kind: "Done" }, needs: [] });
  assert.deepEqual(decide(rollout({}, { phase: "Failed", observedGeneration: 1 })), { step: { kind: "Done" }, needs: [] });
  assert.deepEqual(decide(rollout({}, { phase: "Failed", observedGeneration: 1, activeCollection: BLUE, jobCount: 3 }, 2)).step, { kind: "Begin", activeCollection: BLUE });
  void iso;
});

test("a failed copy Job without its attempt annotation counts from green's record (never more retries than allowed)", () => {
  const r = rollout({ job: { backoffLimit: 1 } }, { ...BEGUN, jobName: "rollout-v2-2", jobCount: 2 });
  const job = { phase: "Failed" as const, reason: "CopyFailed", message: "reset", retryable: true };
  assert.equal(decide(r, { job, green: { exists: true, owner: OURS, copy: copying(10, { attempt: 2 }) } }).step.kind, "Fail");
  assert.equal(decide(r, { job, green: { exists: true, owner: OURS, copy: copying(10, { attempt: 1 }) } }).step.kind, "StartCopy");
});

test("green behind the alias while it is still being built (someone else switched it): Wait AliasMoved, not a promotion", () => {
  const { step } = decide(rollout({}, BEGUN), { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } });
  assert.equal(step.kind === "Wait" && step.reason, "AliasMoved");
  assert.match(step.kind === "Wait" ? step.message : "", /^spec\.alias: alias policies_production points at policies_v2 while this rollout is still building it/);
  // Abort then keeps green: deleting it would take the alias with it.
  const abort = decide(rollout({ abort: true }, BEGUN, 2), { qdrant: { aliasTarget: GREEN }, green: { exists: true, owner: OURS } }).step;
  assert.equal(abort.kind === "Abort" && abort.deleteGreen, false);
});
