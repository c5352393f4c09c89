/**
 * Pods through the real scheduler onto the node agent: what a process sees (volumes at their paths, the
 * downward API, a working in-cluster identity) and what the agent reports back (init containers,
 * restarts, termination messages, the ways a container fails to start).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Pod, V1PodSpec } from "@kubernetes/client-node";
import { useNamespace } from "../helpers/testenv.ts";
import { core, isPhase, kubectl, NODE_IMAGE, useClusterWithNodeAgent, waitForDefaultServiceAccount, waitForPod } from "./support.ts";

useClusterWithNodeAgent();

async function createPod(namespace: string, name: string, spec: Partial<V1PodSpec> & Pick<V1PodSpec, "containers">, labels?: Record<string, string>): Promise<V1Pod> {
  return core().createNamespacedPod({ namespace, body: { metadata: { name, ...(labels ? { labels } : {}) }, spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 5, ...spec } } });
}

const node = (script: string) => ["node", "-e", script];

test("init containers run first and share an emptyDir; the process sees its volumes, the downward API and a working service account", async (t) => {
  const ns = await useNamespace(t, "na-pod");
  await waitForDefaultServiceAccount(ns);
  await core().createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "cfg" }, data: { "app.conf": "level=debug" } } });
  const main = `
    const fs = require('node:fs');
    const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
    const token = fs.readFileSync(sa + '/token', 'utf8');
    const ns = fs.readFileSync(sa + '/namespace', 'utf8');
    const url = 'https://' + process.env.KUBERNETES_SERVICE_HOST + ':' + process.env.KUBERNETES_SERVICE_PORT + '/api/v1/namespaces/' + ns + '/secrets';
    fetch(url, { headers: { authorization: 'Bearer ' + token } }).then(async (res) => {
      const body = await res.json();
      console.log(JSON.stringify({
        fromInit: fs.readFileSync('out.txt', 'utf8'), cwd: process.cwd(),
        conf: fs.readFileSync('/etc/app/renamed.conf', 'utf8'), confMode: (fs.statSync('/etc/app/renamed.conf').mode & 0o777).toString(8),
        labels: fs.readFileSync('/etc/podinfo/labels', 'utf8'), podName: process.env.POD_NAME, podIP: process.env.POD_IP, mem: process.env.MEM_LIMIT_MI,
        apiStatus: res.status, apiMessage: body.message,
      }));
    });`;
  await createPod(ns, "full", {
    initContainers: [{ name: "prepare", image: NODE_IMAGE, command: node("require('node:fs').writeFileSync('/work/shared/out.txt', 'written by init')"), volumeMounts: [{ name: "shared", mountPath: "/work/shared" }] }],
    containers: [
      {
        name: "main",
        image: NODE_IMAGE,
        command: node(main),
        workingDir: "/work/shared",
        env: [
          { name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
          { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "MEM_LIMIT_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
        ],
        resources: { limits: { memory: "128Mi" } },
        volumeMounts: [
          { name: "shared", mountPath: "/work/shared" },
          { name: "cfg", mountPath: "/etc/app", readOnly: true },
          { name: "podinfo", mountPath: "/etc/podinfo" },
        ],
      },
    ],
    volumes: [
      { name: "shared", emptyDir: {} },
      { name: "cfg", configMap: { name: "cfg", items: [{ key: "app.conf", path: "renamed.conf", mode: 0o400 }] } },
      { name: "podinfo", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
    ],
  }, { app: "demo", tier: "test" });

  const pod = await waitForPod(ns, "full", "Succeeded", isPhase("Succeeded", "Failed"));
  assert.equal(pod.status?.phase, "Succeeded", JSON.stringify(pod.status?.containerStatuses));
  const init = pod.status?.initContainerStatuses?.[0];
  assert.equal(init?.state?.terminated?.reason, "Completed");
  assert.equal(init?.ready, true);
  assert.equal(pod.status?.conditions?.find((c) => c.type === "Initialized")?.status, "True");
  const out = JSON.parse(await kubectl("-n", ns, "logs", "full", "-c", "main")) as Record<string, unknown>;
  assert.equal(out.fromInit, "written by init");
  assert.equal(out.cwd, "/work/shared");
  assert.equal(out.conf, "level=debug");
  assert.equal(out.confMode, "400");
  assert.equal(out.labels, 'app="demo"\ntier="test"');
  assert.equal(out.podName, "full");
  assert.equal(out.podIP, "127.0.0.1");
  assert.equal(out.mem, "128");
  // The projected token authenticates as the pod's service account, which has no permissions: 403, not 401.
  assert.equal(out.apiStatus, 403);
  assert.match(String(out.apiMessage), new RegExp(`system:serviceaccount:${ns}:default`));
});

test("restartPolicy OnFailure restarts with back-off and counts restarts; --previous shows the last run", async (t) => {
  const ns = await useNamespace(t, "na-restart");
  await waitForDefaultServiceAccount(ns);
  const script = `
    const fs = require('node:fs'); const f = '/state/count';
    const n = fs.existsSync(f) ? Number(fs.readFileSync(f, 'utf8')) + 1 : 1;
    fs.writeFileSync(f, String(n)); console.log('attempt ' + n); process.exit(n < 3 ? 1 : 0);`;
  await createPod(ns, "flaky", { restartPolicy: "OnFailure", containers: [{ name: "main", image: NODE_IMAGE, command: node(script), volumeMounts: [{ name: "state", mountPath: "/state" }] }], volumes: [{ name: "state", emptyDir: {} }] });
  const pod = await waitForPod(ns, "flaky", "Succeeded", isPhase("Succeeded", "Failed"));
  assert.equal(pod.status?.phase, "Succeeded");
  const cs = pod.status?.containerStatuses?.[0];
  assert.equal(cs?.restartCount, 2);
  assert.equal(cs?.lastState?.terminated?.exitCode, 1);
  assert.equal(cs?.state?.terminated?.exitCode, 0);
  assert.equal(await kubectl("-n", ns, "logs", "flaky"), "attempt 3\n");
  assert.equal(await kubectl("-n", ns, "logs", "flaky", "--previous"), "attempt 2\n");
});

test("termination messages come from the file, or from the log tail with FallbackToLogsOnError", async (t) => {
  const ns = await useNamespace(t, "na-term");
  await waitForDefaultServiceAccount(ns);
  await createPod(ns, "msg", {
    containers: [
      { name: "file", image: NODE_IMAGE, command: node("require('node:fs').writeFileSync('/var/termination/reason', 'custom path'); process.exit(1)"), terminationMessagePath: "/var/termination/reason" },
      { name: "default", image: NODE_IMAGE, command: node("require('node:fs').writeFileSync('/dev/termination-log', 'all good')") },
      { name: "fallback", image: NODE_IMAGE, command: node("console.log('line one'); console.error('it broke'); process.exit(2)"), terminationMessagePolicy: "FallbackToLogsOnError" },
    ],
  });
  const pod = await waitForPod(ns, "msg", "Failed", isPhase("Failed", "Succeeded"));
  const byName = Object.fromEntries((pod.status?.containerStatuses ?? []).map((c) => [c.name, c.state?.terminated]));
  assert.deepEqual([byName.file?.message, byName.file?.exitCode, byName.file?.reason], ["custom path", 1, "Error"]);
  assert.deepEqual([byName.default?.message, byName.default?.reason], ["all good", "Completed"]);
  assert.deepEqual([byName.fallback?.message, byName.fallback?.exitCode], ["line one\nit broke\n", 2]);
});

test("containers that cannot start say why: image not in the map, missing Secret (until it exists), missing binary", async (t) => {
  const ns = await useNamespace(t, "na-fail");
  await waitForDefaultServiceAccount(ns);
  await createPod(ns, "noimage", { containers: [{ name: "main", image: "registry.example.com/nothing:1.0", command: ["true"] }] });
  await createPod(ns, "nosecret", { containers: [{ name: "main", image: NODE_IMAGE, command: node("console.log(process.env.V)"), env: [{ name: "V", valueFrom: { secretKeyRef: { name: "later", key: "v" } } }] }] });
  await createPod(ns, "nobinary", { containers: [{ name: "main", image: NODE_IMAGE, command: ["/no/such/binary"] }] });

  const waiting = await waitForPod(ns, "noimage", "ErrImagePull", (p) => (p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull" ? p : undefined));
  assert.match(waiting.status?.containerStatuses?.[0]?.state?.waiting?.message ?? "", /not in the node agent's image map/);
  assert.equal(waiting.status?.phase, "Pending");
  await assert.rejects(kubectl("-n", ns, "logs", "noimage"), /is waiting to start: image can't be pulled/);

  const config = await waitForPod(ns, "nosecret", "CreateContainerConfigError", (p) => {
    const w = p.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === "CreateContainerConfigError" ? w : undefined;
  });
  assert.deepEqual({ ...config }, { reason: "CreateContainerConfigError", message: 'secret "later" not found' });
  await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: "later" }, stringData: { v: "arrived" } } });
  await waitForPod(ns, "nosecret", "Succeeded once the Secret exists", isPhase("Succeeded"));
  assert.equal(await kubectl("-n", ns, "logs", "nosecret"), "arrived\n");

  const failed = await waitForPod(ns, "nobinary", "Failed", isPhase("Failed"));
  const term = failed.status?.containerStatuses?.[0]?.state?.terminated;
  assert.equal(term?.reason, "StartError");
  assert.equal(term?.exitCode, 128);
  assert.match(term?.message ?? "", /no such file or directory/);
});

test("a pod's own activeDeadlineSeconds kills it: Failed, DeadlineExceeded", async (t) => {
  const ns = await useNamespace(t, "na-deadline");
  await waitForDefaultServiceAccount(ns);
  await createPod(ns, "slow", { activeDeadlineSeconds: 2, containers: [{ name: "main", image: NODE_IMAGE, command: node("setInterval(() => {}, 1000)") }] });
  const pod = await waitForPod(ns, "slow", "Failed", isPhase("Failed"), 30_000);
  assert.equal(pod.status?.reason, "DeadlineExceeded");
  assert.equal(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 143, "node exits on SIGTERM");
});

test("securityContext: the process runs as runAsUser/runAsGroup with fsGroup, and runAsNonRoot refuses root", async (t) => {
  const ns = await useNamespace(t, "na-user");
  await waitForDefaultServiceAccount(ns);
  await core().createNamespacedSecret({ namespace: ns, body: { metadata: { name: "s" }, stringData: { key: "visible" } } });
  await createPod(ns, "user", {
    securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000] },
    containers: [
      {
        name: "main",
        image: "busybox:1.37",
        command: ["sh", "-c", "id -u; id -g; id -G; cat /secret/key; echo; touch /scratch/f && stat -c '%g' /scratch/f"],
        volumeMounts: [
          { name: "scratch", mountPath: "/scratch" },
          { name: "s", mountPath: "/secret" },
        ],
      },
    ],
    volumes: [
      { name: "scratch", emptyDir: {} },
      { name: "s", secret: { secretName: "s", defaultMode: 0o400 } },
    ],
  });
  await createPod(ns, "rootless", { securityContext: { runAsNonRoot: true }, containers: [{ name: "main", image: "busybox:1.37", command: ["true"] }] });

  const pod = await waitForPod(ns, "user", "done", isPhase("Succeeded", "Failed"));
  assert.equal(pod.status?.phase, "Succeeded", JSON.stringify(pod.status?.containerStatuses?.[0]?.state));
  const [uid, gid, groups, secret, fileGroup] = (await kubectl("-n", ns, "logs", "user")).trim().split("\n");
  assert.deepEqual([uid, gid, secret], ["1000", "3000", "visible"]);
  assert.deepEqual(groups!.split(" ").sort(), ["2000", "3000", "4000"], "runAsGroup plus supplementalGroups and fsGroup");
  assert.equal(fileGroup, "2000", "emptyDir is setgid to the fsGroup");

  const refused = await waitForPod(ns, "rootless", "refused", (p) => {
    const w = p.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === "CreateContainerConfigError" ? w : undefined;
  });
  assert.match(refused.message ?? "", /container has runAsNonRoot and image will run as root/);
});

test("a native sidecar starts before the containers, runs beside them and is stopped once they finish", async (t) => {
  const ns = await useNamespace(t, "na-sidecar");
  await waitForDefaultServiceAccount(ns);
  await createPod(ns, "with-sidecar", {
    initContainers: [
      { name: "sidecar", image: NODE_IMAGE, restartPolicy: "Always", command: node("require('node:fs').writeFileSync('/shared/up', 'yes'); setInterval(() => {}, 1000)"), volumeMounts: [{ name: "shared", mountPath: "/shared" }] },
    ],
    containers: [{ name: "main", image: NODE_IMAGE, command: node("const t = setInterval(() => { if (require('node:fs').existsSync('/shared/up')) { clearInterval(t); console.log('sidecar up'); } }, 20)"), volumeMounts: [{ name: "shared", mountPath: "/shared" }] }],
    volumes: [{ name: "shared", emptyDir: {} }],
  });
  const pod = await waitForPod(ns, "with-sidecar", "done", isPhase("Succeeded", "Failed"));
  assert.equal(pod.status?.phase, "Succeeded");
  assert.equal(await kubectl("-n", ns, "logs", "with-sidecar", "-c", "main"), "sidecar up\n", "the sidecar ran beside the main container");
  assert.equal(pod.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode, 143, "stopped with SIGTERM");
});
