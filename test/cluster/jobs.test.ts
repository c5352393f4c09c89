/**
 * The environment's Jobs are real: the real Job controller creates Pods, the real scheduler binds them to
 * the node agent, the agent runs them as processes and reports what a kubelet reports.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { BatchV1Api, CoreV1Api } from "@kubernetes/client-node";
import { jobCondition, jobManifest, NODE_IMAGE, waitForJobFinished } from "../helpers/jobs.ts";
import { eventually, kubeConfig, testEnv, useNamespace } from "../helpers/testenv.ts";

const run = promisify(execFile);

function clients() {
  const kc = kubeConfig();
  return { batch: kc.makeApiClient(BatchV1Api), core: kc.makeApiClient(CoreV1Api) };
}

test("a Job whose process exits 3 with backoffLimit 0 ends Failed, and one that exits 0 ends Complete", async (t) => {
  const ns = await useNamespace(t, "jobs-exit");
  const { batch, core } = clients();
  await batch.createNamespacedJob({ namespace: ns, body: jobManifest("exit3", { containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", "process.exit(3)"] }] }) });
  await batch.createNamespacedJob({ namespace: ns, body: jobManifest("exit0", { containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", "process.exit(0)"] }] }) });

  const failed = await waitForJobFinished(ns, "exit3");
  assert.equal(jobCondition(failed, "Failed")?.reason, "BackoffLimitExceeded");
  assert.equal(failed.status?.failed, 1);
  const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "job-name=exit3" });
  assert.equal(pods.items.length, 1);
  const terminated = pods.items[0]!.status?.containerStatuses?.[0]?.state?.terminated;
  assert.equal(terminated?.exitCode, 3);
  assert.equal(terminated?.reason, "Error");

  const complete = await waitForJobFinished(ns, "exit0");
  assert.ok(jobCondition(complete, "Complete"), "exit 0 completes the Job");
  assert.equal(complete.status?.succeeded, 1);
});

test("a podFailurePolicy onExitCodes FailJob rule ends the Job at once despite a high backoffLimit", async (t) => {
  const ns = await useNamespace(t, "jobs-pfp");
  const { batch } = clients();
  await batch.createNamespacedJob({
    namespace: ns,
    body: jobManifest(
      "permanent",
      { containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", "process.exit(42)"] }] },
      { backoffLimit: 6, podFailurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] } },
    ),
  });
  const job = await waitForJobFinished(ns, "permanent");
  assert.equal(jobCondition(job, "Failed")?.reason, "PodFailurePolicy");
  assert.equal(job.status?.failed, 1, "no retry happened");
});

test("activeDeadlineSeconds kills a sleeping process", async (t) => {
  const ns = await useNamespace(t, "jobs-deadline");
  const { batch, core } = clients();
  const started = Date.now();
  await batch.createNamespacedJob({
    namespace: ns,
    body: jobManifest(
      "sleeper",
      { containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", "setTimeout(() => {}, 3_600_000)"] }] },
      { activeDeadlineSeconds: 3 },
    ),
  });
  const job = await waitForJobFinished(ns, "sleeper");
  assert.equal(jobCondition(job, "Failed")?.reason, "DeadlineExceeded");
  assert.ok(Date.now() - started < 60_000, "the deadline, not the hour-long sleep, ended it");
  // The Job controller deletes the pod; the agent kills the process and finishes the deletion.
  await eventually("the sleeper's pod to be gone", async () => {
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: "job-name=sleeper" });
    return pods.items.length === 0 ? true : undefined;
  });
});

test("a pod sees an env value from a Secret and a file from a secret volume; kubectl logs shows its output", async (t) => {
  const ns = await useNamespace(t, "jobs-secret");
  const { batch, core } = clients();
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "creds" }, stringData: { token: "s3cr3t-value", "config.json": '{"answer":42}' } } });
  const script = [
    "const fs = require('node:fs');",
    "const cfg = JSON.parse(fs.readFileSync('/etc/creds/config.json', 'utf8'));",
    "console.log(`token=${process.env.TOKEN} answer=${cfg.answer} home=${process.env.HOME ?? 'unset'}`);",
  ].join(" ");
  await batch.createNamespacedJob({
    namespace: ns,
    body: jobManifest("reader", {
      containers: [
        {
          name: "main",
          image: NODE_IMAGE,
          command: ["node", "-e", script],
          env: [{ name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } }],
          volumeMounts: [{ name: "creds", mountPath: "/etc/creds", readOnly: true }],
        },
      ],
      volumes: [{ name: "creds", secret: { secretName: "creds" } }],
    }),
  });
  const job = await waitForJobFinished(ns, "reader");
  assert.ok(jobCondition(job, "Complete"), "the reader completed");
  const { stdout } = await run(testEnv().local?.kubectl ?? "kubectl", ["--kubeconfig", testEnv().kubeconfig, "-n", ns, "logs", "job/reader"]);
  assert.match(stdout, /token=s3cr3t-value answer=42/);
  assert.match(stdout, /home=unset/, "only the pod's env (and the image's) reaches the process");
});

test("deleting an owner garbage-collects what it owns", async (t) => {
  const ns = await useNamespace(t, "gc");
  const { core } = clients();
  const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "owner" }, data: { a: "1" } } });
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: {
      metadata: { name: "owned", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata!.uid! }] },
      data: { b: "2" },
    },
  });
  await core.deleteNamespacedConfigMap({ namespace: ns, name: "owner" });
  await eventually("the owned ConfigMap to be garbage-collected", async () => {
    const list = await core.listNamespacedConfigMap({ namespace: ns });
    return list.items.some((c) => c.metadata?.name === "owned") ? undefined : true;
  });
});
