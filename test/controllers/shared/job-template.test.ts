/** The one Job template: what every kind of Job gets, whatever its name, container and inputs. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { V1Container, V1Job } from "@kubernetes/client-node";
import { jobTemplate, type JobTemplateInput } from "../../../src/controllers/shared/job-template.ts";

const OWNER = { apiVersion: "qdrant-operator.dev/v1alpha1", kind: "CollectionRollout", metadata: { name: "policies", namespace: "search", uid: "0b7e1d2f-3a4b-4c43-9b7e-4f0c1c2e7a0b" } };

function input(over: Partial<JobTemplateInput> = {}): JobTemplateInput {
  return {
    name: "gate-policies",
    owner: OWNER,
    component: "rollout-gate",
    labels: { "qdrant-operator.dev/rollout": "policies" },
    container: "gate",
    args: ["job", "gate"],
    defaultImage: "ghcr.io/qdrant-operator/qdrant-operator:dev",
    env: [{ name: "GATE_PLAN", value: "{}" }],
    ...over,
  };
}
const containerOf = (job: V1Job): V1Container => job.spec!.template.spec!.containers[0]!;

describe("jobTemplate", () => {
  test("any kind: owned by its resource, its labels on Job and pod, its container named in the podFailurePolicy", () => {
    const job = jobTemplate(input());
    assert.equal(job.metadata?.name, "gate-policies");
    assert.equal(job.metadata?.namespace, "search");
    assert.deepEqual(job.metadata?.ownerReferences, [{ apiVersion: OWNER.apiVersion, kind: OWNER.kind, name: "policies", uid: OWNER.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    const labels = { "app.kubernetes.io/name": "qdrant-operator", "app.kubernetes.io/component": "rollout-gate", "app.kubernetes.io/managed-by": "qdrant-operator", "qdrant-operator.dev/rollout": "policies" };
    assert.deepEqual(job.metadata?.labels, labels);
    assert.deepEqual(job.spec?.template.metadata?.labels, labels);
    assert.equal(containerOf(job).name, "gate");
    assert.deepEqual(containerOf(job).args, ["job", "gate"]);
    assert.deepEqual(job.spec?.podFailurePolicy, { rules: [{ action: "FailJob", onExitCodes: { containerName: "gate", operator: "In", values: [2] } }] });
    assert.deepEqual(jobTemplate(input()), job, "deterministic");
  });

  test("hardened whatever the kind: no token, no escalation, read-only root with a small /tmp, never restarted in place", () => {
    const job = jobTemplate(input());
    const pod = job.spec!.template.spec!;
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.restartPolicy, "Never");
    assert.deepEqual(pod.securityContext, { seccompProfile: { type: "RuntimeDefault" } });
    assert.deepEqual(containerOf(job).securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    assert.equal(containerOf(job).terminationMessagePolicy, "FallbackToLogsOnError");
    assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
    assert.deepEqual(containerOf(job).volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    assert.equal(job.spec?.backoffLimit, 3);
    assert.equal(job.spec?.ttlSecondsAfterFinished, 86400);
  });

  test("a reference's Secrets (env by secretKeyRef, a mounted CA) are added as given, after the literal env", () => {
    const job = jobTemplate(
      input({
        secretEnv: [{ name: "QDRANT_API_KEY", valueFrom: { secretKeyRef: { name: "qdrant-key", key: "api-key" } } }, { name: "QDRANT_CA_FILE", value: "/etc/qdrant-operator/qdrant-ca/ca.crt" }],
        volumes: [{ name: "qdrant-ca", secret: { secretName: "qdrant-ca", items: [{ key: "ca.pem", path: "ca.crt" }] } }],
        volumeMounts: [{ name: "qdrant-ca", mountPath: "/etc/qdrant-operator/qdrant-ca", readOnly: true }],
      }),
    );
    assert.deepEqual(containerOf(job).env!.map((e) => e.name), ["GATE_PLAN", "QDRANT_API_KEY", "QDRANT_CA_FILE"]);
    assert.deepEqual(job.spec!.template.spec!.volumes!.map((v) => v.name), ["tmp", "qdrant-ca"]);
    assert.deepEqual(containerOf(job).volumeMounts!.map((m) => m.name), ["tmp", "qdrant-ca"]);
  });

  test("spec.job settings apply; the kind's labels win over podLabels", () => {
    const job = jobTemplate(input({ settings: { image: "registry.example.com/op:1", backoffLimit: 0, activeDeadlineSeconds: 60, podLabels: { "qdrant-operator.dev/rollout": "spoofed", team: "search" }, resources: { limits: { cpu: 1 } } } }));
    assert.equal(containerOf(job).image, "registry.example.com/op:1");
    assert.equal(job.spec?.backoffLimit, 0);
    assert.equal(job.spec?.activeDeadlineSeconds, 60);
    assert.deepEqual(containerOf(job).resources, { limits: { cpu: "1" } });
    assert.equal(job.spec?.template.metadata?.labels?.team, "search");
    assert.equal(job.spec?.template.metadata?.labels?.["qdrant-operator.dev/rollout"], "policies");
  });
});
