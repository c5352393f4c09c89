/**
 * The user's gate Job (src/controllers/rollout/gates/gate-job.ts): the one Job template with the user's
 * image, command, args and settings, the environment the issue promises (QDRANT_URL, QDRANT_COLLECTION,
 * QDRANT_ACTIVE_COLLECTION), the connection's key and CA by reference only, owned by the rollout, one pod.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Job } from "@kubernetes/client-node";
import type { CollectionRolloutSpec } from "../../../src/api/v1alpha1/rollout.ts";
import type { QdrantConnectionSpec } from "../../../src/api/v1alpha1/qdrant-connection.ts";
import { buildGateJob, type GateJobInput } from "../../../src/controllers/rollout/gates/gate-job.ts";
import { GATE_CONTAINER, JOB_KIND_ANNOTATION, ROLLOUT_LABEL, rolloutJobName } from "../../../src/controllers/rollout/names.ts";
import type { RolloutObject } from "../../../src/controllers/rollout/types.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const UID = "0b5e2f7c-3a9d-4c1e-8f60-2d7a9b1c4e55";

function rollout(gates: CollectionRolloutSpec["gates"], meta: Record<string, unknown> = {}): RolloutObject {
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "CollectionRollout",
    metadata: { name: "policies-v2", namespace: "prod", uid: UID, generation: 1, ...meta },
    spec: { connectionRef: { name: "qdrant" }, alias: "policies_production", collection: "policies_v2", source: { external: {} }, ...(gates ? { gates } : {}) },
  };
}
function connection(spec: Partial<QdrantConnectionSpec> = {}): QdrantConnectionObject {
  return { metadata: { name: "qdrant", namespace: "prod" }, spec: { url: "http://qdrant.prod.svc:6333", ...spec } };
}
const input = (extra: Partial<GateJobInput> = {}): GateJobInput => ({
  jobName: rolloutJobName("policies-v2", 2),
  address: { url: "http://qdrant.prod.svc:6333", timeoutSeconds: 30, discovery: { mode: "Cluster", restPort: 6333, scheme: "http" } },
  green: "policies_v2",
  active: "policies_v1",
  ...extra,
});
const GATE = { image: "registry.example/eval:1.4", command: ["python", "-m", "eval"], args: ["--min-recall", "0.95"] };

const containerOf = (job: V1Job): V1Container => job.spec!.template.spec!.containers[0]!;
const envOf = (job: V1Job, name: string) => containerOf(job).env!.find((e) => e.name === name);

describe("buildGateJob", () => {
  test("the user's image, command and args in the gate container, one pod, owned by the rollout, labelled and annotated", () => {
    const job = buildGateJob(rollout({ job: GATE }), connection(), input());
    assert.equal(job.metadata?.name, "rollout-policies-v2-2");
    assert.equal(job.metadata?.namespace, "prod");
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "CollectionRollout", name: "policies-v2", uid: UID, controller: true, blockOwnerDeletion: true }]);
    assert.equal(job.metadata?.labels?.[ROLLOUT_LABEL], "policies-v2");
    assert.equal(job.metadata?.labels?.["app.kubernetes.io/component"], "rollout-gate");
    assert.equal(job.spec?.template.metadata?.labels?.[ROLLOUT_LABEL], "policies-v2");
    assert.equal(job.metadata?.annotations?.[JOB_KIND_ANNOTATION], "gate");
    const c = containerOf(job);
    assert.equal(c.name, GATE_CONTAINER);
    assert.equal(c.image, "registry.example/eval:1.4");
    assert.deepEqual(c.command, ["python", "-m", "eval"]);
    assert.deepEqual(c.args, ["--min-recall", "0.95"]);
    assert.equal(job.spec?.backoffLimit, 0, "one pod, one verdict");
    assert.equal(job.spec?.template.spec?.restartPolicy, "Never");
    assert.deepEqual(job.spec?.podFailurePolicy?.rules[0]?.onExitCodes, { containerName: GATE_CONTAINER, operator: "In", values: [2] });
    assert.deepEqual(buildGateJob(rollout({ job: GATE }), connection(), input()), job, "deterministic");
  });

  test("no command keeps the image's entrypoint; no args is an empty list", () => {
    const c = containerOf(buildGateJob(rollout({ job: { image: "eval:1" } }), connection(), input()));
    assert.equal(c.command, undefined);
    assert.deepEqual(c.args, []);
  });

  test("QDRANT_URL, QDRANT_COLLECTION and QDRANT_ACTIVE_COLLECTION; the active one empty when there is none", () => {
    const job = buildGateJob(rollout({ job: GATE }), connection(), input());
    assert.equal(envOf(job, "QDRANT_URL")?.value, "http://qdrant.prod.svc:6333");
    assert.equal(envOf(job, "QDRANT_COLLECTION")?.value, "policies_v2");
    assert.equal(envOf(job, "QDRANT_ACTIVE_COLLECTION")?.value, "policies_v1");
    for (const active of [null, undefined]) assert.equal(envOf(buildGateJob(rollout({ job: GATE }), connection(), input({ active })), "QDRANT_ACTIVE_COLLECTION")?.value, "");
    assert.equal(envOf(job, "QDRANT_API_KEY"), undefined, "a connection without a key gives none");
  });

  test("the connection's API key and CA by reference, never as values", () => {
    const job = buildGateJob(
      rollout({ job: GATE }),
      connection({ url: "https://qdrant.prod.svc:6333", apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, tls: { caSecretRef: { name: "qdrant-ca", key: "ca.pem" } } }),
      input(),
    );
    assert.deepEqual(envOf(job, "QDRANT_API_KEY"), { name: "QDRANT_API_KEY", valueFrom: { secretKeyRef: { name: "qdrant-key", key: "api-key" } } });
    assert.equal(envOf(job, "QDRANT_CA_FILE")?.value, "/etc/qdrant-operator/qdrant-ca/ca.crt");
    assert.deepEqual(job.spec!.template.spec!.volumes!.find((v) => v.name === "qdrant-ca")?.secret, { secretName: "qdrant-ca", items: [{ key: "ca.pem", path: "ca.crt" }] });
    assert.deepEqual(containerOf(job).volumeMounts!.find((m) => m.name === "qdrant-ca"), { name: "qdrant-ca", mountPath: "/etc/qdrant-operator/qdrant-ca", readOnly: true });
    const literal = containerOf(job).env!.filter((e) => e.value !== undefined).map((e) => e.name);
    assert.deepEqual(literal.sort(), ["QDRANT_ACTIVE_COLLECTION", "QDRANT_CA_FILE", "QDRANT_COLLECTION", "QDRANT_URL"], "nothing else carries a value");
    assert.doesNotMatch(JSON.stringify(job), /"value":"[^"]*(api-key|BEGIN CERTIFICATE)/);
  });

  test("the connection's TLS server name and skip-verify reach the gate as QDRANT_TLS_SERVER_NAME and QDRANT_TLS_INSECURE_SKIP_VERIFY", () => {
    const job = buildGateJob(rollout({ job: GATE }), connection({ url: "https://10.0.0.7:6333", tls: { serverName: "qdrant.internal", insecureSkipVerify: true } }), input());
    assert.equal(envOf(job, "QDRANT_TLS_SERVER_NAME")?.value, "qdrant.internal");
    assert.equal(envOf(job, "QDRANT_TLS_INSECURE_SKIP_VERIFY")?.value, "true");
    const plain = buildGateJob(rollout({ job: GATE }), connection(), input());
    assert.equal(envOf(plain, "QDRANT_TLS_SERVER_NAME"), undefined);
    assert.equal(envOf(plain, "QDRANT_TLS_INSECURE_SKIP_VERIFY"), undefined);
  });

  test("gates.job.settings shape the pod; its backoffLimit cannot make a second attempt, its image is not a second say", () => {
    const job = buildGateJob(
      rollout({
        job: {
          ...GATE,
          settings: {
            image: "other:9",
            imagePullPolicy: "Always",
            backoffLimit: 5,
            activeDeadlineSeconds: 600,
            serviceAccountName: "eval",
            nodeSelector: { pool: "gpu" },
            resources: { limits: { memory: "2Gi" }, requests: { cpu: 1 } },
            podLabels: { team: "search" },
          },
        },
      }),
      connection(),
      input(),
    );
    const c = containerOf(job);
    assert.equal(c.image, "registry.example/eval:1.4");
    assert.equal(c.imagePullPolicy, "Always");
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.activeDeadlineSeconds, 600);
    assert.equal(job.spec?.template.spec?.serviceAccountName, "eval");
    assert.deepEqual(job.spec?.template.spec?.nodeSelector, { pool: "gpu" });
    assert.deepEqual(c.resources, { limits: { memory: "2Gi" }, requests: { cpu: "1" } });
    assert.equal(job.spec?.template.metadata?.labels?.team, "search");
    assert.equal(job.spec?.template.spec?.automountServiceAccountToken, false, "the verdict is the exit code: no API rights");
  });

  test("the rollout's spec.job is not the gate Job's (it is the copy Job's)", () => {
    const r = rollout({ job: GATE });
    r.spec.job = { image: "operator:dev", nodeSelector: { pool: "copy" } };
    const job = buildGateJob(r, connection(), input());
    assert.equal(containerOf(job).image, "registry.example/eval:1.4");
    assert.equal(job.spec?.template.spec?.nodeSelector, undefined);
  });

  test("a rollout without gates.job is a caller's bug", () => {
    assert.throws(() => buildGateJob(rollout({ minPoints: 1 }), connection(), input()), RangeError);
  });
});
