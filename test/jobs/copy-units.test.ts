/**
 * The copy Job's pure parts and its controller side: the plan checker, the Job build-copy-job.ts makes (and
 * what adoption reads back from it), and rolloutJobOutcome for copy Jobs (their CopyJobSuccess) and gate
 * Jobs (a user's exit code).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildCopyJob, COPY_JOB_NODE_OPTIONS, jobKindOf, type StartCopy } from "../../src/controllers/rollout/build-copy-job.ts";
import { rolloutJobOutcome } from "../../src/controllers/rollout/job-result.ts";
import { ATTEMPT_ANNOTATION, COPY_CONTAINER, GATE_CONTAINER, JOB_KIND_ANNOTATION, ROLLOUT_LABEL } from "../../src/controllers/rollout/names.ts";
import type { RolloutObject } from "../../src/controllers/rollout/types.ts";
import type { JobObject, PodObject } from "../../src/controllers/shared/job-objects.ts";
import { JOB_NODE_OPTIONS } from "../../src/controllers/shared/job-template.ts";
import type { QdrantConnectionObject } from "../../src/controllers/shared/resolve-connection.ts";
import { isOperatorError } from "../../src/errors.ts";
import type { CopyJobPlan } from "../../src/jobs/copy/contract.ts";
import { copyPlan } from "../../src/jobs/copy/plan.ts";
import { copyResults } from "../../src/jobs/copy/result.ts";

const UID = "6f1c2f4e-0000-4000-8000-00000000abcd";

function plan(over: Partial<CopyJobPlan> = {}): CopyJobPlan {
  return {
    version: 1,
    rollout: { namespace: "team-a", name: "policies", uid: UID },
    attempt: 1,
    source: "policies_v1",
    target: "policies_v2",
    batchSize: 256,
    qdrant: { url: "http://qdrant.db:6333", timeoutSeconds: 30, discovery: { mode: "Cluster", restPort: 6333, scheme: "http" } },
    ...over,
  };
}

describe("copy plan checker", () => {
  test("a good plan has no problems", () => {
    assert.deepEqual(copyPlan.problems(plan()), []);
    assert.deepEqual(copyPlan.problems(plan({ resumeFrom: "00000000-0000-4000-8000-000000000001" })), []);
  });

  const rows: Array<[string, unknown, RegExp]> = [
    ["batchSize 0", plan({ batchSize: 0 }), /plan\.batchSize/],
    ["batchSize beyond 10000", plan({ batchSize: 10_001 }), /plan\.batchSize/],
    ["a target Qdrant cannot take", plan({ target: "a/b" }), /plan\.target: "a\/b" is not a collection name/],
    ["the source as target", plan({ target: "policies_v1" }), /plan\.target: is the source collection "policies_v1"/],
    ["a string id that is not a UUID", plan({ resumeFrom: "42" }), /plan\.resumeFrom: "42" is not a point id/],
    ["a negative id", plan({ resumeFrom: -1 }), /plan\.resumeFrom/],
    ["no rollout uid", { ...plan(), rollout: { namespace: "a", name: "b" } }, /plan\.rollout/],
    ["a URL without scheme", plan({ qdrant: { ...plan().qdrant, url: "qdrant:6333" } }), /plan\.qdrant\.url/],
  ];
  for (const [name, value, want] of rows) {
    test(name, () => {
      const problems = copyPlan.problems(value);
      assert.ok(problems.some((p) => want.test(`${p.field}: ${p.message}`)), JSON.stringify(problems));
    });
  }

  test("read: a bad plan is InvalidCopyPlan naming COPY_PLAN, every problem at once", () => {
    assert.throws(() => copyPlan.read(undefined), (e: unknown) => isOperatorError(e, "COPY_PLAN_INVALID") && /COPY_PLAN is not set/.test(e.message));
    assert.throws(() => copyPlan.read("{"), (e: unknown) => isOperatorError(e, "COPY_PLAN_INVALID") && /COPY_PLAN is not JSON/.test(e.message));
    assert.throws(
      () => copyPlan.read(JSON.stringify({ ...plan(), version: 2, batchSize: 0 })),
      (e: unknown) => isOperatorError(e, "COPY_PLAN_INVALID") && e.reason === "InvalidCopyPlan" && !e.retryable && /plan\.version: must be 1 \(got 2\)/.test(e.message) && /plan\.batchSize/.test(e.message),
    );
  });
});

const rollout = (over: Partial<RolloutObject["spec"]> = {}, status?: RolloutObject["status"]): RolloutObject => ({
  apiVersion: "qdrant.operator.io/v1alpha1",
  kind: "CollectionRollout",
  metadata: { name: "policies", namespace: "team-a", uid: UID },
  spec: { connectionRef: { name: "qdrant" }, alias: "policies_production", collection: "policies_v2", source: { copyFrom: { batchSize: 500 } }, job: { image: "example/op:1", resources: { limits: { memory: "256Mi" } } }, ...over },
  ...(status ? { status } : {}),
});
const connection: QdrantConnectionObject = { metadata: { name: "qdrant", namespace: "team-a" }, spec: { url: "https://qdrant.db:6333", apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, tls: { caSecretRef: { name: "qdrant-ca", key: "ca.crt" } } } };
const settings = { defaultImage: "ghcr.io/x/qdrant-operator:dev", address: { url: "https://qdrant.db:6333", timeoutSeconds: 30, discovery: { mode: "Cluster" as const, restPort: 6333, scheme: "https" as const } } };
const step: StartCopy = { kind: "StartCopy", n: 3, jobName: "rollout-policies-3", attempt: 2, source: "policies_v1" };

function planOf(job: ReturnType<typeof buildCopyJob>): CopyJobPlan {
  const env = job.spec!.template.spec!.containers[0]!.env!;
  return JSON.parse(env.find((e) => e.name === "COPY_PLAN")!.value!) as CopyJobPlan;
}

describe("buildCopyJob", () => {
  test("the one Job template: `job copy`, its plan, the connection's Secrets by reference, one pod, kind and attempt annotated", () => {
    const job = buildCopyJob(rollout(), connection, step, settings);
    assert.equal(job.metadata?.name, "rollout-policies-3");
    assert.equal(job.metadata?.namespace, "team-a");
    assert.equal(job.metadata?.ownerReferences?.[0]?.uid, UID);
    assert.equal(job.metadata?.ownerReferences?.[0]?.controller, true);
    assert.equal(job.metadata?.labels?.[ROLLOUT_LABEL], "policies");
    assert.equal(job.spec?.template.metadata?.labels?.[ROLLOUT_LABEL], "policies");
    assert.deepEqual(job.metadata?.annotations, { [JOB_KIND_ANNOTATION]: "copy", [ATTEMPT_ANNOTATION]: "2" });
    assert.equal(job.spec?.backoffLimit, 0);
    const c = job.spec.template.spec!.containers[0]!;
    assert.equal(c.name, COPY_CONTAINER);
    assert.deepEqual(c.args, ["job", "copy"]);
    assert.equal(c.image, "example/op:1");
    assert.deepEqual(c.resources, { limits: { memory: "256Mi" } });
    assert.equal(c.env!.find((e) => e.name === "NODE_OPTIONS")?.value, COPY_JOB_NODE_OPTIONS);
    assert.ok(COPY_JOB_NODE_OPTIONS.startsWith(JOB_NODE_OPTIONS), "every Job's settings, then the copy's own");
    assert.deepEqual(c.env!.find((e) => e.name === "QDRANT_API_KEY")?.valueFrom, { secretKeyRef: { name: "qdrant-key", key: "api-key" } });
    assert.ok(c.env!.some((e) => e.name === "QDRANT_CA_FILE"));
    assert.ok(job.spec.template.spec!.volumes!.some((v) => v.secret?.secretName === "qdrant-ca"));
    assert.deepEqual(planOf(job), { ...plan({ attempt: 2, batchSize: 500 }), qdrant: { url: "https://qdrant.db:6333", timeoutSeconds: 30, discovery: { mode: "Cluster", restPort: 6333, scheme: "https" } } });
    assert.ok(!JSON.stringify(job).includes("api-key\":\""), "no secret value in the Job");
  });

  test("batchSize defaults to 256; resumeFrom is the step's", () => {
    const job = buildCopyJob(rollout({ source: { copyFrom: {} } }, { copy: { copiedPoints: 1200, totalPoints: 5000, nextOffset: 1201 } }), connection, { ...step, resumeFrom: 1201 }, settings);
    const p = planOf(job);
    assert.equal(p.batchSize, 256);
    assert.equal(p.resumeFrom, 1201);
    assert.equal(planOf(buildCopyJob(rollout(), connection, step, settings)).resumeFrom, undefined);
  });

  test("the same inputs give the same Job (a repeated reconcile builds what the first did)", () => {
    assert.deepEqual(buildCopyJob(rollout(), connection, step, settings), buildCopyJob(rollout(), connection, step, settings));
  });

  test("a plan the Job would refuse is refused here: InvalidCopyPlan naming the field", () => {
    assert.throws(() => buildCopyJob(rollout(), connection, { ...step, source: "policies_v2" }, settings), (e: unknown) => isOperatorError(e, "COPY_PLAN_INVALID") && /plan\.target: is the source collection/.test(e.message));
  });

  test("jobKindOf reads back kind and attempt; a Job with no known kind is nobody's to adopt", () => {
    assert.deepEqual(jobKindOf(buildCopyJob(rollout(), connection, step, settings)), { kind: "copy", attempt: 2 });
    assert.deepEqual(jobKindOf({ metadata: { annotations: { [JOB_KIND_ANNOTATION]: "gate" } } }), { kind: "gate", attempt: 1 });
    assert.deepEqual(jobKindOf({ metadata: { annotations: { [JOB_KIND_ANNOTATION]: "gate", [ATTEMPT_ANNOTATION]: "x" } } }), { kind: "gate", attempt: 1 });
    assert.equal(jobKindOf({ metadata: { annotations: { [JOB_KIND_ANNOTATION]: "backup" } } }), undefined);
    assert.equal(jobKindOf({}), undefined);
  });
});

const T0 = "2026-01-15T02:00:01Z";
const T1 = "2026-01-15T02:02:00Z";
function job(kind: "copy" | "gate", condition?: { type: string; reason?: string; message?: string }): JobObject {
  return {
    metadata: { name: "rollout-policies-3", annotations: { [JOB_KIND_ANNOTATION]: kind, [ATTEMPT_ANNOTATION]: "1" } },
    status: { startTime: T0, conditions: condition ? [{ status: "True", lastTransitionTime: T1, ...condition }] : [] },
  };
}
function pod(container: string, terminated: { exitCode: number; reason?: string; message?: string }, finishedAt = "2026-01-15T02:01:00Z"): PodObject {
  return { metadata: { name: `p-${finishedAt}` }, status: { containerStatuses: [{ name: container, state: { terminated: { ...terminated, finishedAt } } }] } };
}
const success = { ok: true, copiedPoints: 5000, totalPoints: 5000, batches: 20, resumedFrom: 1201, durationSeconds: 3.5 };

describe("rolloutJobOutcome: copy Jobs", () => {
  test("Running, then Succeeded with its CopyJobSuccess", () => {
    assert.deepEqual(rolloutJobOutcome(job("copy"), []), { phase: "Running", startTime: T0 });
    assert.deepEqual(rolloutJobOutcome(job("copy", { type: "Complete" }), [pod(COPY_CONTAINER, { exitCode: 0, message: JSON.stringify(success) })]), { phase: "Succeeded", copy: success, completionTime: T1 });
  });

  test("Succeeded with an unreadable message: no copy figures (green's record is authoritative)", () => {
    assert.deepEqual(rolloutJobOutcome(job("copy", { type: "Complete" }), [pod(COPY_CONTAINER, { exitCode: 0, message: "log tail" })]), { phase: "Succeeded", completionTime: T1 });
  });

  test("Failed: the Job's own failure and its retryable; a refused copy is permanent", () => {
    const refused = { ok: false, reason: "CopyFailed", message: "Qdrant refused … needs source.external", retryable: false };
    assert.deepEqual(rolloutJobOutcome(job("copy", { type: "Failed", reason: "PodFailurePolicy" }), [pod(COPY_CONTAINER, { exitCode: 2, message: JSON.stringify(refused) })]), {
      phase: "Failed",
      reason: "CopyFailed",
      message: refused.message,
      retryable: false,
      completionTime: T1,
    });
    const flaky = { ok: false, reason: "QdrantUnreachable", message: "ECONNRESET", retryable: true };
    const out = rolloutJobOutcome(job("copy", { type: "Failed", reason: "BackoffLimitExceeded" }), [pod(COPY_CONTAINER, { exitCode: 1, message: JSON.stringify(flaky) })]);
    assert.deepEqual(out.phase === "Failed" && [out.reason, out.retryable], ["QdrantUnreachable", true]);
  });

  test("Failed with no result (OOM-killed, pod lost): retryable, the kubelet's words kept", () => {
    const out = rolloutJobOutcome(job("copy", { type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }), [pod(COPY_CONTAINER, { exitCode: 137, reason: "OOMKilled" })]);
    assert.ok(out.phase === "Failed");
    assert.equal(out.reason, "BackoffLimitExceeded");
    assert.equal(out.retryable, true);
    assert.match(out.message, /exited 137 \(OOMKilled\)/);
  });

  test("a Job that is gone is Missing", () => assert.deepEqual(rolloutJobOutcome(undefined, []), { phase: "Missing" }));

  test("the reader is copyResults: a success its schema refuses is not one", () => {
    assert.equal(copyResults.parse(JSON.stringify({ ...success, copiedPoints: -1 })).kind, "text");
  });
});

describe("rolloutJobOutcome: gate Jobs (the user's exit code is the verdict)", () => {
  test("Complete → Succeeded, whatever it printed", () => {
    assert.deepEqual(rolloutJobOutcome(job("gate", { type: "Complete" }), [pod(GATE_CONTAINER, { exitCode: 0, message: "recall@10 0.97 ok" })]), { phase: "Succeeded", completionTime: T1 });
    assert.deepEqual(rolloutJobOutcome(job("gate"), []), { phase: "Running", startTime: T0 });
  });

  test("a non-zero exit → Failed GateJobFailed, not retryable, with the exit code, reason and its words", () => {
    const out = rolloutJobOutcome(job("gate", { type: "Failed", reason: "BackoffLimitExceeded" }), [pod(GATE_CONTAINER, { exitCode: 3, reason: "Error", message: "recall@10 0.61 < 0.9\n" })]);
    assert.ok(out.phase === "Failed");
    assert.equal(out.reason, "GateJobFailed");
    assert.equal(out.retryable, false);
    assert.equal(out.message, 'gate Job rollout-policies-3 failed: its container "gate" exited 3 (Error): recall@10 0.61 < 0.9; a gate Job that does not exit 0 is a no');
  });

  test("a JSON line from the user's Job is words, never a result (exit 2 with {\"ok\":true} is still a no)", () => {
    const out = rolloutJobOutcome(job("gate", { type: "Failed", reason: "PodFailurePolicy" }), [pod(GATE_CONTAINER, { exitCode: 2, reason: "Error", message: '{"ok":true,"copiedPoints":1,"batches":1,"durationSeconds":1}' })]);
    assert.deepEqual(out.phase === "Failed" && [out.reason, out.retryable], ["GateJobFailed", false]);
    assert.match(out.phase === "Failed" ? out.message : "", /exited 2 \(Error\)/);
  });

  test("killed (SIGKILL: 137) → a no", () => {
    const out = rolloutJobOutcome(job("gate", { type: "Failed", reason: "BackoffLimitExceeded" }), [pod(GATE_CONTAINER, { exitCode: 137, reason: "OOMKilled" })]);
    assert.match(out.phase === "Failed" ? out.message : "", /exited 137 \(OOMKilled, killed by signal 9\)/);
  });

  test("no container ended (deadline, pod deleted before it ran) → a no, with the Job's own reason", () => {
    const out = rolloutJobOutcome(job("gate", { type: "Failed", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" }), []);
    assert.ok(out.phase === "Failed");
    assert.equal(out.reason, "GateJobFailed");
    assert.equal(out.retryable, false);
    assert.match(out.message, /failed before its container "gate" ended \(DeadlineExceeded: Job was active longer than specified deadline\)/);
  });

  test("the copy container's states do not count for a gate Job", () => {
    const out = rolloutJobOutcome(job("gate", { type: "Failed", reason: "BackoffLimitExceeded" }), [pod(COPY_CONTAINER, { exitCode: 0 })]);
    assert.match(out.phase === "Failed" ? out.message : "", /failed before its container "gate" ended/);
  });
});
