/**
 * decideRestore: every policy × every observation, under an injected clock. Each row is a restore, a
 * world (what each observation would find) and the step wanted, plus which observations were asked for
 * and in what order: laziness is part of the contract (a finished Once restore asks for nothing, a
 * Watching IfMissing restore never resolves its source).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantRestoreSpec, QdrantRestoreStatus } from "../../../src/api/v1alpha1/restore.ts";
import { decideRestore, retryDelayMs, type JobState, type Need, type Observed, type ResolvedOk, type RestoreStep, type TargetState, type UnrecordedJob } from "../../../src/controllers/restore/decide.ts";
import { methodFor } from "../../../src/controllers/restore/method.ts";
import { drillCollectionName, restoreJobName } from "../../../src/controllers/restore/names.ts";
import type { ResolvedSource } from "../../../src/controllers/restore/source/resolve-source.ts";
import { checkRestoreSpec } from "../../../src/controllers/restore/spec.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import type { Manifest } from "../../../src/backup/layout/manifest.ts";

const NOW = new Date("2026-03-01T12:00:00Z");
const UID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
const BACKUP_ID = "20260301T100000Z-0a1b2c3d";

function restore(spec: Partial<QdrantRestoreSpec> = {}, status?: QdrantRestoreStatus, generation = 1): RestoreObject {
  return {
    metadata: { name: "r", namespace: "prod", uid: UID, generation, creationTimestamp: "2026-03-01T00:00:00Z" },
    spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" } }, ...spec },
    ...(status ? { status } : {}),
  };
}

function source(over: Partial<ResolvedOk> = {}): ResolvedOk {
  return {
    ok: true,
    location: { metadata: { name: "s3", namespace: "prod" }, spec: { s3: { bucket: "backups", credentials: {} } } },
    candidate: { origin: "Bucket", backupId: BACKUP_ID, location: "s3", namespace: "prod", connection: "qdrant", mode: "Collection", collection: "policies", state: "Complete" },
    manifestKey: "k/manifest.json",
    manifest: {} as Manifest,
    sourceCollection: "policies",
    files: [{ sourcePeerId: "1", shardIds: [0], key: "k/1.snapshot", size: 10, sha256: "a".repeat(64) }],
    expectedPoints: 42,
    mode: "Collection",
    ...over,
  };
}

const threePeers = (): ResolvedOk =>
  source({ files: ["1", "2", "3"].map((p, i) => ({ sourcePeerId: p, shardIds: [i], key: `k/${p}.snapshot`, size: 10, sha256: "a".repeat(64) })) });

const missing: TargetState = { reachable: true, exists: false, peers: 1 };
const exists: TargetState = { reachable: true, exists: true, peers: 1 };

/** What observing gives: the peers only when asked for. */
function withPeers(state: TargetState, peers: boolean): TargetState {
  if (!state.reachable || peers) return state;
  const { peers: _peers, ...rest } = state;
  return rest;
}

interface World {
  unrecorded?: UnrecordedJob | null;
  job?: JobState;
  references?: Observed["references"];
  source?: ResolvedSource;
  target?: TargetState;
  ahead?: { message: string } | null;
  now?: Date;
}

/** Runs decide as the controller does, answering each Observe from `world`; returns the step and the needs asked. */
function decide(r: RestoreObject, world: World = {}): { step: RestoreStep; needs: string[] } {
  const o: Observed = { now: world.now ?? NOW, spec: checkRestoreSpec(r.spec) };
  const needs: string[] = [];
  for (let i = 0; i < 16; i++) {
    const step = decideRestore(r, o);
    if (step.kind !== "Observe") return { step, needs };
    needs.push(
      step.need === "target" ? `target${step.peers ? "+peers" : ""}:${step.collection}` : step.need === "source" && step.backupId ? `source:${step.backupId}` : step.need === "unrecorded" && step.cached ? "unrecorded:cache" : step.need,
    );
    const answer = (n: Need) => {
      switch (n) {
        case "unrecorded":
          return (o.unrecorded = world.unrecorded ?? null);
        case "job":
          return (o.job = world.job ?? assert.fail("the job was not expected to be read"));
        case "references":
          return (o.references = world.references ?? { ok: true });
        case "source":
          return (o.source = world.source ?? source());
        case "target":
          return (o.target = { collection: step.collection ?? "", state: withPeers(world.target ?? missing, step.peers === true) });
        case "turn":
          return (o.ahead = world.ahead ?? null);
      }
    };
    answer(step.need);
  }
  throw new Error("decide looped");
}

const READY_ALL = ["unrecorded", "references", "source", "target+peers:policies", "turn"];

test("Once: a new restore resolves everything, then starts attempt 1 as Job restore-r-1", () => {
  const { step, needs } = decide(restore());
  assert.deepEqual(needs, READY_ALL);
  assert.equal(step.kind, "Start");
  if (step.kind !== "Start") return;
  assert.equal(step.jobName, "restore-r-1");
  assert.equal(step.attempt, 1);
  assert.equal(step.maxAttempts, 4);
  assert.equal(step.ownedTarget, false);
  assert.equal(step.method, "Pull");
  assert.equal(step.targetCollection, "policies");
  assert.equal(step.startTime, undefined);
});

test("Once: finished is final (Succeeded; Failed at this generation), and asks for nothing", () => {
  assert.deepEqual(decide(restore({}, { phase: "Succeeded", observedGeneration: 1 })), { step: { kind: "Done" }, needs: [] });
  assert.deepEqual(decide(restore({}, { phase: "Succeeded", observedGeneration: 1 }), { now: new Date("2030-01-01T00:00:00Z") }), { step: { kind: "Done" }, needs: [] });
  assert.deepEqual(decide(restore({}, { phase: "Failed", observedGeneration: 1 })), { step: { kind: "Done" }, needs: [] });
  // A new generation of a failed Once restore (the user fixed the spec) runs again, numbering Jobs on.
  const again = decide(restore({}, { phase: "Failed", observedGeneration: 1, jobCount: 2 }, 2));
  assert.equal(again.step.kind, "Start");
  assert.equal(again.step.kind === "Start" && again.step.jobName, "restore-r-3");
});

test("an invalid spec is Invalid before anything is observed", () => {
  const r = restore({ policy: "Drill" });
  const { step, needs } = decide(r);
  assert.equal(step.kind, "Invalid");
  assert.match(step.kind === "Invalid" ? step.message : "", /spec\.drill/);
  assert.deepEqual(needs, []);
  const badCron = decide(restore({ policy: "Drill", drill: { schedule: "0 0 * *" } }));
  assert.match(badCron.step.kind === "Invalid" ? badCron.step.message : "", /^spec\.drill\.schedule: /);
  const alias = decide(restore({ policy: "Drill", drill: { schedule: "@daily" }, target: { connectionRef: { name: "qdrant" }, alias: "live" } }));
  assert.match(alias.step.kind === "Invalid" ? alias.step.message : "", /^spec\.target\.alias: /);
});

test("a Job the status does not record yet is adopted before anything else is decided", () => {
  const job: UnrecordedJob = { name: "restore-r-1", n: 1, attempt: 1, targetCollection: "policies", backupId: BACKUP_ID, createdAt: "2026-03-01T11:59:00Z" };
  // Even an IfMissing restore whose target now exists (that Job restored it): adopt, not Watch.
  for (const policy of ["Once", "IfMissing"] as const) {
    const { step, needs } = decide(restore({ policy }), { unrecorded: job, target: exists });
    assert.deepEqual(step, { kind: "Adopt", job });
    assert.deepEqual(needs, ["unrecorded"]);
  }
});

test("each pre-Job problem waits with its reason and changes nothing; non-retryable source problems fail", () => {
  const rows: Array<{ name: string; world: World; spec?: Partial<QdrantRestoreSpec>; kind: string; reason: string; message?: RegExp }> = [
    { name: "connection missing", world: { references: { ok: false, reason: "ReferenceNotFound", message: "spec.target.connectionRef: QdrantConnection prod/qdrant does not exist" } }, kind: "Wait", reason: "ReferenceNotFound" },
    { name: "a Secret missing", world: { references: { ok: false, reason: "SecretNotFound", message: "x" } }, kind: "Wait", reason: "SecretNotFound" },
    { name: "backup not found", world: { source: { ok: false, reason: "BackupNotFound", message: "no backup", retryable: true } }, kind: "Wait", reason: "BackupNotFound" },
    { name: "manifest unreadable", world: { source: { ok: false, reason: "ManifestUnreadable", message: "corrupt", retryable: true } }, kind: "Wait", reason: "ManifestUnreadable" },
    { name: "objects missing", world: { source: { ok: false, reason: "BackupObjectsMissing", message: "gone", retryable: true } }, kind: "Wait", reason: "BackupObjectsMissing" },
    { name: "unsupported backup", world: { source: { ok: false, reason: "UnsupportedBackup", message: "compressed", retryable: false } }, kind: "Fail", reason: "UnsupportedBackup" },
    { name: "source collection required", world: { source: { ok: false, reason: "SourceCollectionRequired", message: "several", retryable: false } }, kind: "Fail", reason: "SourceCollectionRequired" },
    { name: "Qdrant unreachable", world: { target: { reachable: false, reason: "QdrantUnreachable", message: "QdrantConnection qdrant spec.url: down" } }, kind: "Wait", reason: "QdrantUnreachable" },
    { name: "target is an alias", world: { target: { reachable: true, exists: false, aliasOf: "policies_v2", peers: 1 } }, kind: "Wait", reason: "TargetIsAlias", message: /alias \(of collection policies_v2\)/ },
    { name: "target exists", world: { target: exists }, kind: "Wait", reason: "TargetExists", message: /^spec\.target\.collection: collection policies exists .*spec\.overwrite is not set; nothing was changed$/ },
    { name: "too few peers", world: { source: threePeers(), target: { reachable: true, exists: false, peers: 2 } }, kind: "Wait", reason: "TopologyMismatch", message: /data on 3 peers .* has 2/ },
    { name: "explicit Pull of a full-storage backup", world: { source: source({ mode: "FullStorage" }) }, spec: { method: "Pull" }, kind: "Fail", reason: "MethodNotPossible", message: /^spec\.method: / },
    { name: "another's turn", world: { ahead: { message: "QdrantBackup b0 of the same QdrantConnection qdrant is ahead in line" } }, kind: "Wait", reason: "WaitingForTurn" },
  ];
  for (const row of rows) {
    const { step } = decide(restore(row.spec ?? {}), row.world);
    assert.equal(step.kind, row.kind, row.name);
    const reason = step.kind === "Wait" || step.kind === "Fail" ? step.reason : "";
    assert.equal(reason, row.reason, row.name);
    if (row.message) assert.match(step.kind === "Wait" || step.kind === "Fail" ? step.message : "", row.message, row.name);
    if (step.kind === "Wait") {
      assert.equal(step.phase, "Pending", `${row.name}: a Once restore not started is Pending`);
      assert.equal(step.requeueMs, 30_000, row.name);
    }
  }
});

test("overwrite restores onto an existing collection; methods: Auto is Pull, or Upload for a full-storage archive", () => {
  const over = decide(restore({ overwrite: true }), { target: exists });
  assert.equal(over.step.kind === "Start" && over.step.ownedTarget, false);
  assert.equal(over.step.kind, "Start");
  const full = decide(restore(), { source: source({ mode: "FullStorage" }) });
  assert.equal(full.step.kind === "Start" && full.step.method, "Upload");
  const upload = decide(restore({ method: "Upload" }));
  assert.equal(upload.step.kind === "Start" && upload.step.method, "Upload");
  const named = decide(restore({ target: { connectionRef: { name: "qdrant" }, collection: "policies_restored" } }), {});
  assert.deepEqual(named.needs, ["unrecorded", "references", "source", "target+peers:policies_restored", "turn"]);
});

test("methods (#15): a compressed or encrypted backup is Upload under Auto, and an explicit Pull of it is refused before anything is created", () => {
  const SHA = "a".repeat(64);
  const plain = { sourcePeerId: "1", shardIds: [0], key: "k/1.snapshot", size: 10, sha256: SHA };
  const zst = { sourcePeerId: "2", shardIds: [1], key: "k/2.snapshot.zst", size: 10, sha256: SHA, stored: { size: 7, sha256: SHA }, compression: { algorithm: "zstd" as const } };
  const age = { sourcePeerId: "3", shardIds: [2], key: "k/3.snapshot.zst.age", size: 10, sha256: SHA, stored: { size: 9, sha256: SHA }, compression: { algorithm: "zstd" as const }, encryption: { scheme: "age-v1" as const, keyRef: "age/keys.txt" } };
  const encOnly = { ...plain, key: "k/1.snapshot.age", stored: { size: 12, sha256: SHA }, encryption: { scheme: "age-v1" as const } };
  const rows: Array<{ name: string; files: ResolvedOk["files"]; method?: QdrantRestoreSpec["method"]; want: "Pull" | "Upload" | RegExp }> = [
    { name: "plain, Auto", files: [plain], want: "Pull" },
    { name: "plain, Pull", files: [plain], method: "Pull", want: "Pull" },
    { name: "plain, Upload", files: [plain], method: "Upload", want: "Upload" },
    { name: "one compressed file among plain ones, Auto", files: [plain, zst], want: "Upload" },
    { name: "compressed and encrypted, Auto", files: [age], want: "Upload" },
    { name: "encrypted, Upload", files: [encOnly], method: "Upload", want: "Upload" },
    { name: "compressed, Pull", files: [plain, zst], method: "Pull", want: /^spec\.method: Pull cannot restore backup \S+: its objects are compressed \(k\/2\.snapshot\.zst\), and Qdrant cannot decompress a snapshot it recovers from a URL; .*use Upload or Auto$/ },
    { name: "encrypted, Pull", files: [encOnly], method: "Pull", want: /its objects are encrypted \(k\/1\.snapshot\.age\), and Qdrant cannot decrypt .*use Upload or Auto$/ },
    { name: "both, Pull", files: [zst, age], method: "Pull", want: /its objects are compressed and encrypted \(k\/2\.snapshot\.zst and 1 more\), and Qdrant cannot decompress or decrypt/ },
  ];
  for (const row of rows) {
    const got = methodFor({ ...restore().spec, ...(row.method ? { method: row.method } : {}) }, source({ files: row.files }));
    if (typeof row.want === "string") assert.deepEqual(got, { ok: true, method: row.want }, row.name);
    else {
      assert.equal(got.ok, false, row.name);
      assert.equal(!got.ok && got.reason, "MethodNotPossible", row.name);
      assert.match(!got.ok ? got.message : "", row.want, row.name);
    }
  }
  // Through the decision: a refused Pull is a terminal Fail (a Once restore does not retry it), never a Start.
  const refused = decide(restore({ method: "Pull" }), { source: source({ files: [age] }) });
  assert.equal(refused.step.kind, "Fail");
  assert.equal(refused.step.kind === "Fail" && refused.step.reason, "MethodNotPossible");
  const auto = decide(restore(), { source: source({ files: [age] }) });
  assert.equal(auto.step.kind === "Start" && auto.step.method, "Upload");
});

test("a running Job is watched; a succeeded one completes, switching the alias", () => {
  const running = restore({ target: { connectionRef: { name: "qdrant" }, alias: "live" } }, { phase: "Running", jobName: "restore-r-1", jobCount: 1, attempt: 1, targetCollection: "policies", startTime: "2026-03-01T11:00:00Z" });
  const r1 = decide(running, { job: { phase: "Running" } });
  assert.deepEqual(r1.needs, ["unrecorded", "job"]);
  assert.equal(r1.step.kind, "Running");
  const done = decide(running, { job: { phase: "Succeeded", completionTime: "2026-03-01T11:30:00Z" } });
  assert.equal(done.step.kind, "Complete");
  if (done.step.kind !== "Complete") return;
  assert.deepEqual(done.step.switchAlias, { alias: "live", collection: "policies" });
  assert.equal(done.step.deleteCollection, undefined);
  assert.equal(done.step.requeueMs, undefined, "a Once restore is done for good");
});

test("retries: a retryable failure waits its backoff, then starts the next attempt; ownership only from a claim on the same collection", () => {
  const status: QdrantRestoreStatus = { phase: "Running", jobName: "restore-r-1", jobCount: 1, attempt: 1, targetCollection: "policies", backupId: BACKUP_ID, startTime: "2026-03-01T11:00:00Z" };
  const failedAt = new Date(NOW.getTime() - 5_000).toISOString();
  const failure = (claim?: { collection: string; attempt: number }, reported = true): JobState => ({ phase: "Failed", reason: reported ? "Interrupted" : "BackoffLimitExceeded", message: "killed", retryable: true, reported, completionTime: failedAt, ...(claim ? { claim } : {}) });

  const early = decide(restore({}, status), { job: failure({ collection: "policies", attempt: 1 }) });
  assert.equal(early.step.kind, "Wait");
  if (early.step.kind === "Wait") {
    assert.equal(early.step.phase, "Running");
    assert.equal(early.step.requeueMs, retryDelayMs(1) - 5_000);
    assert.match(early.step.message, /^attempt 1 of 4 failed: killed; attempt 2 starts at /);
  }

  const later = new Date(NOW.getTime() + retryDelayMs(1));
  const claimed = decide(restore({}, status), { now: later, job: failure({ collection: "policies", attempt: 1 }), target: exists });
  assert.deepEqual(claimed.needs, ["unrecorded", "job", "references", `source:${BACKUP_ID}`, "target+peers:policies", "turn"], "a retry resolves the backup its run chose");
  assert.equal(claimed.step.kind, "Start");
  if (claimed.step.kind === "Start") {
    assert.equal(claimed.step.attempt, 2);
    assert.equal(claimed.step.jobName, "restore-r-2");
    assert.equal(claimed.step.ownedTarget, true);
    assert.equal(claimed.step.startTime, "2026-03-01T11:00:00Z", "the run's start is kept");
  }
  // A claim on another collection, or none, does not make an existing target ours; only an attempt that
  // left no result at all may have made it, and the message says so.
  for (const [job, unknown] of [[failure({ collection: "other", attempt: 1 }), false], [failure(), false], [failure(undefined, false), true]] as const) {
    const { step } = decide(restore({}, status), { now: later, job, target: exists });
    assert.equal(step.kind, "Wait");
    assert.equal(step.kind === "Wait" && step.reason, "TargetExists");
    assert.equal(step.kind === "Wait" && step.phase, "Running");
    const said = /attempt 1 left no result saying whether it created it \(BackoffLimitExceeded\), so it may be that attempt's half-made collection/;
    if (unknown) assert.match(step.kind === "Wait" ? step.message : "", said);
    else assert.doesNotMatch(step.kind === "Wait" ? step.message : "", said);
  }
  // IfMissing: a retry that finds the target there (someone made it; the attempt before said it made nothing) watches it.
  const healing = decide(restore({ policy: "IfMissing", sourceCollection: "policies" }, status), { now: later, job: failure(), target: exists });
  assert.equal(healing.step.kind, "Watch");
  // overwrite does not make IfMissing recover into a target that came back during the backoff.
  const healingOverwrite = decide(restore({ policy: "IfMissing", sourceCollection: "policies", overwrite: true }, status), { now: later, job: failure(), target: exists });
  assert.equal(healingOverwrite.step.kind, "Watch");
  const unsure = decide(restore({ policy: "IfMissing", sourceCollection: "policies" }, status), { now: later, job: failure(undefined, false), target: exists });
  assert.equal(unsure.step.kind === "Wait" && unsure.step.reason, "TargetExists");
  // Not there any more: the retry goes ahead, not owning anything.
  const gone = decide(restore({}, status), { now: later, job: failure(), target: missing });
  assert.equal(gone.step.kind === "Start" && gone.step.ownedTarget, false);
  // Claimed and not there yet: still ours, since the recover the killed attempt started may create it
  // (Qdrant finishes a Pull on its own) before the next attempt's Job looks.
  const pending = decide(restore({}, status), { now: later, job: failure({ collection: "policies", attempt: 1 }), target: missing });
  assert.equal(pending.step.kind === "Start" && pending.step.ownedTarget, true);
  // A deleted Job counts as a retryable failure without a claim, due at once.
  const deleted = decide(restore({}, status), { job: { phase: "Missing" } });
  assert.equal(deleted.step.kind, "Start");
});

test("retries end: a non-retryable failure, or the last attempt, fails the run and deletes a claimed collection", () => {
  const base: QdrantRestoreStatus = { phase: "Running", jobName: "restore-r-4", jobCount: 4, attempt: 4, targetCollection: "policies" };
  const last = decide(restore({}, base), { job: { phase: "Failed", reason: "Interrupted", message: "killed", retryable: true, reported: true, claim: { collection: "policies", attempt: 4 } } });
  assert.equal(last.step.kind, "Fail");
  if (last.step.kind === "Fail") {
    assert.equal(last.step.reason, "Interrupted");
    assert.match(last.step.message, /\(attempt 4 of 4\)$/);
    assert.equal(last.step.deleteCollection, "policies");
  }
  const permanent = decide(restore({}, { ...base, attempt: 1, jobName: "restore-r-1", jobCount: 1 }), { job: { phase: "Failed", reason: "ChecksumMismatch", message: "sha differs", retryable: false, reported: true } });
  assert.equal(permanent.step.kind, "Fail");
  assert.equal(permanent.step.kind === "Fail" && permanent.step.deleteCollection, undefined, "nothing claimed: nothing of ours to delete");
  assert.equal(permanent.step.kind === "Fail" && permanent.step.message, "sha differs");
  // backoffLimit 0: one attempt per run.
  const none = decide(restore({ job: { backoffLimit: 0 } }, { ...base, attempt: 1, jobName: "restore-r-1", jobCount: 1 }), { job: { phase: "Failed", reason: "QdrantUnreachable", message: "down", retryable: true, reported: true } });
  assert.equal(none.step.kind, "Fail");
});

test("IfMissing: target there → Watching (never the source); missing → restore; failure is retried at the next check", () => {
  const spec = { policy: "IfMissing" as const, checkIntervalSeconds: 120, sourceCollection: "policies" };
  const watching = decide(restore(spec), { target: exists });
  assert.deepEqual(watching.needs, ["unrecorded", "references", "target:policies"]);
  assert.equal(watching.step.kind, "Watch");
  assert.equal(watching.step.kind === "Watch" && watching.step.requeueMs, 120_000);
  assert.equal(watching.step.kind === "Watch" && watching.step.reason, "Watching");

  const gone = decide(restore(spec, { phase: "Watching", restoreCount: 1, jobCount: 1, jobName: "restore-r-1", targetCollection: "policies" }), { target: missing });
  assert.deepEqual(gone.needs, ["unrecorded", "references", "target:policies", "source", "target+peers:policies", "turn"], "the topology only once a Job is to start");
  assert.equal(gone.step.kind, "Start");
  assert.equal(gone.step.kind === "Start" && gone.step.jobName, "restore-r-2");
  assert.equal(gone.step.kind === "Start" && gone.step.attempt, 1);

  const succeeded = decide(restore(spec, { phase: "Running", jobName: "restore-r-2", jobCount: 2, attempt: 1, targetCollection: "policies" }), { job: { phase: "Succeeded" } });
  assert.equal(succeeded.step.kind === "Complete" && succeeded.step.requeueMs, 120_000);

  const failedAt = new Date(NOW.getTime() - 60_000).toISOString();
  const held = decide(restore(spec, { phase: "Failed", completionTime: failedAt, jobCount: 2 }), { target: missing });
  assert.deepEqual(held, { step: { kind: "Watch", reason: "Watching", message: "", requeueMs: 60_000, keep: true }, needs: ["unrecorded"] });
  const retried = decide(restore(spec, { phase: "Failed", completionTime: failedAt, jobCount: 2 }), { now: new Date(NOW.getTime() + 60_000), target: missing });
  assert.equal(retried.step.kind === "Start" && retried.step.jobName, "restore-r-3");

  // Waits between runs keep the phase (Watching with Qdrant down), not Pending.
  const down = decide(restore(spec, { phase: "Watching" }), { target: { reachable: false, reason: "QdrantUnreachable", message: "down" } });
  assert.equal(down.step.kind === "Wait" && down.step.phase, "Keep");
  const alias = decide(restore(spec), { target: { reachable: true, exists: true, aliasOf: "p2", peers: 1 } });
  assert.equal(alias.step.kind === "Wait" && alias.step.reason, "TargetIsAlias");
  // Without a name in the spec (a backupRef of one collection), the source says the name first.
  const unnamed = decide(restore({ policy: "IfMissing" }), { target: exists });
  assert.deepEqual(unnamed.needs, ["unrecorded", "references", "source", "target:policies"]);
});

test("Drill: due on its schedule; restores into its temporary collection, always its own; deletes it after, whatever happened", () => {
  const spec = { policy: "Drill" as const, drill: { schedule: "0 * * * *" }, source: { latest: { locationRef: { name: "s3" }, collection: "policies" } } };
  const temp = drillCollectionName("policies", UID);
  assert.equal(temp, "policies-drill-0a1b2c3d");

  const notDue = decide(restore(spec, { lastScheduleTime: "2026-03-01T12:00:00Z" }), { now: new Date("2026-03-01T12:10:00Z") });
  assert.deepEqual(notDue.needs, ["unrecorded:cache"], "between ticks: the Job cache only, no source, no target");
  assert.equal(notDue.step.kind, "Watch");
  if (notDue.step.kind === "Watch") {
    assert.equal(notDue.step.reason, "DrillScheduled");
    assert.equal(notDue.step.nextScheduleTime?.toISOString(), "2026-03-01T13:00:00.000Z");
    assert.equal(notDue.step.requeueMs, 50 * 60_000);
  }

  const due = decide(restore(spec, { lastScheduleTime: "2026-03-01T11:00:00Z" }), { target: exists });
  assert.equal(due.step.kind, "Start");
  if (due.step.kind === "Start") {
    assert.equal(due.step.targetCollection, temp);
    assert.equal(due.step.ownedTarget, true, "a leftover temporary collection is the drill's own");
    assert.equal(due.step.scheduledTime?.toISOString(), "2026-03-01T12:00:00.000Z");
  }

  const running: QdrantRestoreStatus = { phase: "Running", jobName: "restore-r-1", jobCount: 1, attempt: 1, targetCollection: temp, lastScheduleTime: "2026-03-01T12:00:00Z" };
  const ok = decide(restore(spec, running), { now: new Date("2026-03-01T12:05:00Z"), job: { phase: "Succeeded" } });
  assert.equal(ok.step.kind, "Complete");
  if (ok.step.kind === "Complete") {
    assert.equal(ok.step.deleteCollection, temp);
    assert.equal(ok.step.switchAlias, undefined);
    assert.equal(ok.step.nextScheduleTime?.toISOString(), "2026-03-01T13:00:00.000Z");
    assert.equal(ok.step.requeueMs, 55 * 60_000);
  }
  const failed = decide(restore(spec, running), { now: new Date("2026-03-01T12:05:00Z"), job: { phase: "Failed", reason: "VerificationFailed", message: "41 points, expected 42", retryable: false, reported: true } });
  assert.equal(failed.step.kind, "Fail");
  assert.equal(failed.step.kind === "Fail" && failed.step.deleteCollection, temp);

  // A run started as Once into the real collection and edited to Drill mid-run (only the source is
  // immutable): its target is not temporary, so neither success nor failure deletes it.
  const edited: QdrantRestoreStatus = { ...running, targetCollection: "policies" };
  const editedOk = decide(restore(spec, edited), { now: new Date("2026-03-01T12:05:00Z"), job: { phase: "Succeeded" } });
  assert.equal(editedOk.step.kind === "Complete" && editedOk.step.deleteCollection, undefined);
  const editedFailed = decide(restore(spec, edited), { now: new Date("2026-03-01T12:05:00Z"), job: { phase: "Failed", reason: "VerificationFailed", message: "no", retryable: false, reported: true } });
  assert.equal(editedFailed.step.kind === "Fail" && editedFailed.step.deleteCollection, undefined);

  // A failed drill stays Failed until the next one (keep), its next tick still published.
  const between = decide(restore(spec, { phase: "Failed", lastScheduleTime: "2026-03-01T12:00:00Z" }), { now: new Date("2026-03-01T12:10:00Z") });
  assert.equal(between.step.kind === "Watch" && between.step.keep, true);
  // A source that cannot be used for good fails this tick's drill (recorded), not every reconcile.
  const unusable = decide(restore(spec, { lastScheduleTime: "2026-03-01T11:00:00Z" }), { source: { ok: false, reason: "CollectionNotInBackup", message: "no", retryable: false } });
  assert.equal(unusable.step.kind, "Fail");
  assert.equal(unusable.step.kind === "Fail" && unusable.step.scheduledTime?.toISOString(), "2026-03-01T12:00:00.000Z");
});

test("Drill: between ticks only its clock and the Job cache are looked at; a due tick, a run or another policy looks for an unrecorded Job at the apiserver", () => {
  const spec = { policy: "Drill" as const, drill: { schedule: "0 0 1 1 *" }, source: { latest: { locationRef: { name: "s3" }, collection: "policies" } } };
  const temp = drillCollectionName("policies", UID);
  const verified: QdrantRestoreStatus = { phase: "Watching", jobCount: 1, lastScheduleTime: "2026-01-01T00:00:00Z", nextScheduleTime: "2027-01-01T00:00:00Z", targetCollection: temp };
  const lost: UnrecordedJob = { name: "restore-r-2", n: 2, attempt: 1, targetCollection: temp, backupId: BACKUP_ID, scheduledTime: "2027-01-01T00:00:00Z" };
  const rows: Array<{ name: string; r: RestoreObject; now?: Date; unrecorded?: UnrecordedJob; needs: string[]; kind: RestoreStep["kind"] }> = [
    { name: "settled between ticks", r: restore(spec, verified), needs: ["unrecorded:cache"], kind: "Watch" },
    { name: "new, its first tick ahead (no status yet)", r: restore(spec), needs: ["unrecorded:cache"], kind: "Watch" },
    { name: "failed, until the next tick", r: restore(spec, { ...verified, phase: "Failed" }), needs: ["unrecorded:cache"], kind: "Watch" },
    { name: "waiting at a due tick (the connection was missing): the tick stays due", r: restore(spec, verified), now: new Date("2027-01-01T00:00:30Z"), needs: ["unrecorded", "references", "source", `target+peers:${temp}`, "turn"], kind: "Start" },
    { name: "its Start's status write lost: the tick is still due, the Job is looked for and adopted", r: restore(spec, verified), now: new Date("2027-01-01T00:00:30Z"), unrecorded: lost, needs: ["unrecorded"], kind: "Adopt" },
    { name: "mid-run", r: restore(spec, { ...verified, phase: "Running", jobName: "restore-r-1", attempt: 1 }), needs: ["unrecorded", "job"], kind: "Running" },
    { name: "IfMissing, watching", r: restore({ policy: "IfMissing", source: spec.source }, { phase: "Watching", targetCollection: "policies" }), needs: ["unrecorded", "references", "target:policies"], kind: "Watch" },
  ];
  for (const row of rows) {
    const { step, needs } = decide(row.r, { target: row.kind === "Watch" && row.r.spec.policy === "IfMissing" ? exists : missing, ...(row.now ? { now: row.now } : {}), ...(row.unrecorded ? { unrecorded: row.unrecorded } : {}), job: { phase: "Running" } });
    assert.deepEqual([step.kind, needs], [row.kind, row.needs], row.name);
  }
  // A spec change is decided from the spec alone: a new schedule moves the next drill, with the cache's look only.
  const edited = decide(restore({ ...spec, drill: { schedule: "0 0 1 7 *" } }, verified, 2));
  assert.deepEqual(edited.needs, ["unrecorded:cache"]);
  assert.equal(edited.step.kind === "Watch" && edited.step.nextScheduleTime?.toISOString(), "2026-07-01T00:00:00.000Z");
});

test("Drill in a time zone: ticks are the zone's", () => {
  const spec = { policy: "Drill" as const, drill: { schedule: "0 3 * * *", timeZone: "Europe/Berlin" }, source: { latest: { locationRef: { name: "s3" }, collection: "policies" } } };
  const { step } = decide(restore(spec, { lastScheduleTime: "2026-02-28T02:00:00Z" }), { now: new Date("2026-03-01T01:59:00Z") });
  assert.equal(step.kind === "Watch" && step.nextScheduleTime?.toISOString(), "2026-03-01T02:00:00.000Z");
});

test("Job names: restore-<name>-<n>, bounded, and the drill's temporary collection fits 255", () => {
  assert.equal(restoreJobName("r", 12), "restore-r-12");
  const long = restoreJobName("a".repeat(200), 999_999);
  assert.ok(long.length <= 63, long);
  assert.equal(long.slice(0, -7), restoreJobName("a".repeat(200), 1).slice(0, -2), "the name part does not move with the number");
  assert.equal(drillCollectionName("x".repeat(255), UID).length, 255);
});
