/**
 * The node itself and the ends of a pod's life: the Node is Ready with a live Lease and a kubelet port
 * the API server reaches; `kubectl logs` options work through the API server; a graceful deletion sends
 * SIGTERM, waits the grace period, SIGKILLs, reports the exits, and then the agent finishes the deletion.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { test } from "node:test";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { loadCertificateAuthority, type KeyPairPem } from "../env/pki.ts";
import { eventually, kubeConfig, testEnv, useNamespace } from "../helpers/testenv.ts";
import { core, isPhase, kubectl, NODE_IMAGE, pidOf, useClusterWithNodeAgent, waitForDefaultServiceAccount, waitForPod } from "./support.ts";

useClusterWithNodeAgent();

test("the node is Ready and schedulable, renews its Lease, and the API server reaches its kubelet port", async () => {
  const name = testEnv().local!.nodeName;
  const nodeObj = await core().readNode({ name });
  assert.equal(nodeObj.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
  assert.equal(nodeObj.spec?.taints, undefined, "node-lifecycle removed the not-ready taint");
  assert.deepEqual(nodeObj.status?.addresses?.map((a) => a.type), ["InternalIP", "Hostname"]);
  assert.ok((nodeObj.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 0) > 0);
  const lease = await kubeConfig().makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: "kube-node-lease", name });
  assert.equal(lease.spec?.holderIdentity, name);
  const age = Date.now() - new Date(lease.spec.renewTime!).getTime();
  assert.ok(age < 30_000, `lease renewed ${age} ms ago`);
  // The kubelet port wants a client certificate from the cluster CA (the API server has one).
  const port = nodeObj.status.daemonEndpoints!.kubeletEndpoint!.Port;
  const local = testEnv().local!;
  const ca = await loadCertificateAuthority(await readFile(local.caCert, "utf8"), await readFile(local.caKey, "utf8"));
  const client = await ca.sign({ commonName: "test-client", usage: "client" });
  assert.equal(await httpsGet(`https://127.0.0.1:${port}/healthz`, ca.cert, client), "200 ok");
  await assert.rejects(httpsGet(`https://127.0.0.1:${port}/healthz`, ca.cert), "no certificate, no answer");
});

function httpsGet(url: string, caPem: string, cert?: KeyPairPem): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, ...(cert ? { cert: cert.cert, key: cert.key } : {}) }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(`${res.statusCode} ${body}`));
    });
    req.on("error", reject);
    req.end();
  });
}

test("kubectl logs through the API server: follow, tail, timestamps, limit-bytes", async (t) => {
  const ns = await useNamespace(t, "na-logs");
  await waitForDefaultServiceAccount(ns);
  const script = "let i = 0; const t = setInterval(() => { console.log('tick ' + ++i); if (i === 8) { clearInterval(t); console.error('done'); } }, 150);";
  await core().createNamespacedPod({ namespace: ns, body: { metadata: { name: "ticker" }, spec: { restartPolicy: "Never", containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", script] }] } } });
  await waitForPod(ns, "ticker", "Running", isPhase("Running", "Succeeded"));
  // -f returns when the container exits, with everything it wrote.
  const followed = await kubectl("-n", ns, "logs", "-f", "ticker");
  assert.equal(followed, [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `tick ${i}\n`).join("") + "done\n");
  assert.equal(await kubectl("-n", ns, "logs", "ticker", "--tail=2"), "tick 8\ndone\n");
  assert.equal(await kubectl("-n", ns, "logs", "ticker", "--limit-bytes=9"), "tick 1\nti");
  const stamped = (await kubectl("-n", ns, "logs", "ticker", "--timestamps", "--tail=1")).trim();
  assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z done$/);
  assert.equal(await kubectl("-n", ns, "logs", "ticker", "--since=1h", "--tail=1"), "done\n");
});

test("graceful deletion: SIGTERM, the grace period, SIGKILL, exits reported, then the agent deletes the pod", async (t) => {
  const ns = await useNamespace(t, "na-delete");
  await waitForDefaultServiceAccount(ns);
  const finalizer = "qdrant-operator.test/hold";
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      // The finalizer keeps the object after the agent's final delete, so its last status can be read.
      metadata: { name: "victim", finalizers: [finalizer] },
      spec: {
        restartPolicy: "Always",
        terminationGracePeriodSeconds: 30,
        containers: [
          { name: "polite", image: NODE_IMAGE, command: ["node", "-e", "process.on('SIGTERM', () => { console.log('bye'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000)"] },
          { name: "stubborn", image: "busybox:1.37", command: ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"] },
        ],
      },
    },
  });
  const running = await waitForPod(ns, "victim", "both containers running", (p) => (p.status?.containerStatuses?.every((c) => c.state?.running) && p.status.containerStatuses.length === 2 ? p : undefined));
  const pids = Object.fromEntries(running.status!.containerStatuses!.map((c) => [c.name, pidOf(c.containerID)]));
  // Running means exec'd, not yet past installing a signal handler: wait until each says so.
  for (const c of ["polite", "stubborn"]) await eventually(`${c} to be ready`, async () => ((await kubectl("-n", ns, "logs", "victim", "-c", c)).includes("ready") ? true : undefined));
  const started = Date.now();
  await core().deleteNamespacedPod({ namespace: ns, name: "victim", gracePeriodSeconds: 3 });
  const gone = await waitForPod(ns, "victim", "deletion finished by the agent", (p) => (p.metadata?.deletionGracePeriodSeconds === 0 ? p : undefined), 30_000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 2500, `the stubborn container got its grace period (${elapsed} ms): ${JSON.stringify({ meta: gone.metadata, status: gone.status })}`);
  const byName = Object.fromEntries(gone.status!.containerStatuses!.map((c) => [c.name, c.state?.terminated]));
  assert.equal(byName.polite?.exitCode, 0, "handled SIGTERM");
  assert.equal(byName.stubborn?.exitCode, 137, "SIGKILLed after the grace period");
  assert.equal(byName.stubborn?.signal, 9);
  assert.equal(gone.status?.phase, "Failed");
  for (const pid of Object.values(pids)) assert.ok(await isGone(pid), `process ${pid} is gone`);
  await core().patchNamespacedPod({ namespace: ns, name: "victim", body: [{ op: "remove", path: "/metadata/finalizers" }] });
  await eventually("the pod to be gone", async () => ((await core().listNamespacedPod({ namespace: ns })).items.length === 0 ? true : undefined));
});

/** Gone, or a zombie waiting for its reaper: either way no longer running. */
async function isGone(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}
