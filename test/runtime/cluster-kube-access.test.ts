/**
 * The manager's own kubeconfig loader (kube-access.ts) against the real apiserver: the admin kubeconfig's
 * client certificate, a service account's bearer token (from the TokenRequest API) in a kubeconfig, in a
 * token file that is rewritten, and in a fake in-cluster service-account directory; an exec user through
 * the client-node fallback.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { loadKubeAccess, type KubeAccess } from "../../src/runtime/kube-access.ts";
import { parseKubeconfig } from "../../src/runtime/kubeconfig.ts";
import { watchStream, type WatchEventType } from "../../src/runtime/list-watch.ts";
import type { KubeObject, ResourceType } from "../../src/runtime/resource.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import { eventually, startTestCluster, type TestCluster } from "./fixtures/cluster.ts";

const CONFIGMAPS: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

let cluster: TestCluster;
let admin: RestClient;
let dir: string;
let server: string;
let caData: string;

before(async () => {
  cluster = await startTestCluster();
  admin = new RestClient(cluster.kubeAccess());
  dir = await mkdtemp(join(tmpdir(), "kube-access-test-"));
  const cfg = parseKubeconfig(await readFile(cluster.kubeconfigPath, "utf8"), cluster.kubeconfigPath);
  server = cfg.clusters[0]!.server;
  caData = cfg.clusters[0]!.caData!;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
  await cluster.stop();
});

let files = 0;
/** A kubeconfig for `server` (the CA inline) and `user`, written to a file of its own. */
async function kubeconfigWith(user: Record<string, unknown>): Promise<string> {
  const path = join(dir, `kubeconfig-${++files}`);
  await writeFile(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server, "certificate-authority-data": caData } }],
      users: [{ name: "u", user }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    }),
    { mode: 0o600 },
  );
  return path;
}

/** A service account allowed to edit `ns`, and a bearer token for it from the TokenRequest API. */
async function serviceAccountToken(ns: string, name: string): Promise<string> {
  await admin.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { body: { metadata: { name } } });
  await admin.request("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
    body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" }, subjects: [{ kind: "ServiceAccount", name, namespace: ns }] },
  });
  const tr = await admin.request<{ status: { token: string } }>("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  });
  return tr.status.token;
}

/** Who the apiserver says `access` is. */
async function whoami(access: KubeAccess): Promise<string> {
  const r = await new RestClient(access).request<{ status: { userInfo: { username: string } } }>("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  });
  return r.status.userInfo.username;
}

/** Watches `ns`'s ConfigMaps from `rv`, collecting events; `done` records how it ended. */
async function watchConfigMaps(access: KubeAccess, ns: string, rv: string) {
  const events: Array<{ type: WatchEventType; obj: KubeObject }> = [];
  const ended: unknown[] = [];
  const handle = await watchStream(
    access,
    `/api/v1/namespaces/${ns}/configmaps`,
    { resourceVersion: rv, timeoutSeconds: 60, allowWatchBookmarks: true },
    120_000,
    (type, obj) => events.push({ type, obj: obj as KubeObject }),
    (err) => ended.push(err ?? "closed"),
  );
  return { events, ended, handle };
}

describe("kube access against a real apiserver", () => {
  test("the admin kubeconfig (client certificate): get, list, patch and watch", async (t) => {
    const ns = await cluster.namespace(t, "ka");
    const access = loadKubeAccess({ kubeconfig: cluster.kubeconfigPath });
    assert.equal(access.description.transport, "own");
    const client = new RestClient(access);
    await client.create(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: ns }, data: { v: "1" } });
    assert.equal(((await client.get(CONFIGMAPS, { namespace: ns, name: "a" })).data as { v: string }).v, "1");
    const list = await client.list(CONFIGMAPS, ns);
    assert.deepEqual(list.items.filter((i) => i.metadata?.name === "a").map((i) => [i.apiVersion, i.kind]), [["v1", "ConfigMap"]]);
    const w = await watchConfigMaps(access, ns, list.resourceVersion);
    t.after(() => w.handle.abort());
    await client.patch(CONFIGMAPS, { namespace: ns, name: "a" }, { data: { v: "2" } });
    await eventually("the patch as a MODIFIED event", () => (w.events.some((e) => e.type === "MODIFIED" && (e.obj.data as { v: string }).v === "2") ? true : undefined));
    w.handle.abort();
    await client.delete(CONFIGMAPS, { namespace: ns, name: "a" });
    await assert.rejects(client.get(CONFIGMAPS, { namespace: ns, name: "a" }), (e: unknown) => e instanceof ApiError && e.status === 404);
    assert.deepEqual(w.ended, [], "abort() ends the watch without calling done");
  });

  test("a watch from a resourceVersion the apiserver no longer has gets the 410 ERROR event's Status", async (t) => {
    const ns = await cluster.namespace(t, "ka");
    const w = await watchConfigMaps(cluster.kubeAccess(), ns, "1");
    t.after(() => w.handle.abort());
    await eventually("an ERROR event", () => (w.events.some((e) => e.type === "ERROR") ? true : undefined));
    assert.equal((w.events.find((e) => e.type === "ERROR")!.obj as { code?: number }).code, 410);
  });

  test("a token kubeconfig: the service account's identity and permissions; a bad token is a 401", async (t) => {
    const ns = await cluster.namespace(t, "ka");
    const token = await serviceAccountToken(ns, "robot");
    const access = loadKubeAccess({ kubeconfig: await kubeconfigWith({ token }) });
    assert.equal(await whoami(access), `system:serviceaccount:${ns}:robot`);
    const client = new RestClient(access);
    await client.create(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "by-robot", namespace: ns } });
    assert.ok((await client.list(CONFIGMAPS, ns)).items.some((i) => i.metadata?.name === "by-robot"));
    const bad = new RestClient(loadKubeAccess({ kubeconfig: await kubeconfigWith({ token: "not-a-token" }) }));
    await assert.rejects(bad.list(CONFIGMAPS, ns), (e: unknown) => e instanceof ApiError && e.status === 401);
  });

  test("in-cluster, from a service-account directory: its token and CA; a rewritten token is used once the copy is older than tokenMaxAgeMs", async (t) => {
    const ns = await cluster.namespace(t, "ka");
    const [first, second] = [await serviceAccountToken(ns, "first"), await serviceAccountToken(ns, "second")];
    const saDir = await mkdtemp(join(dir, "sa-"));
    await writeFile(join(saDir, "token"), first);
    await writeFile(join(saDir, "ca.crt"), Buffer.from(caData, "base64"));
    const url = new URL(server);
    const env = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port };
    const fresh = loadKubeAccess({ env, home: join(dir, "no-home"), serviceAccountDir: saDir, tokenMaxAgeMs: 0 });
    const held = loadKubeAccess({ env, home: join(dir, "no-home"), serviceAccountDir: saDir });
    assert.equal(fresh.description.source, `in-cluster service account (${saDir})`);
    assert.equal(await whoami(fresh), `system:serviceaccount:${ns}:first`);
    assert.equal(await whoami(held), `system:serviceaccount:${ns}:first`);
    await writeFile(join(saDir, "token"), second);
    assert.equal(await whoami(fresh), `system:serviceaccount:${ns}:second`, "re-read: the copy is older than 0 ms");
    assert.equal(await whoami(held), `system:serviceaccount:${ns}:first`, "not re-read: the copy is younger than a minute");
  });

  test("an exec user goes through client-node: the plugin's token is sent, and a watch works", async (t) => {
    const ns = await cluster.namespace(t, "ka");
    const token = await serviceAccountToken(ns, "plugin");
    const script = join(dir, `exec-${ns}.sh`);
    const credential = JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token } });
    await writeFile(script, `#!/bin/sh\nprintf '%s' '${credential}'\n`);
    await chmod(script, 0o755);
    const access = loadKubeAccess({ kubeconfig: await kubeconfigWith({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: script, interactiveMode: "Never" } }) });
    assert.deepEqual({ transport: access.description.transport, reasons: access.description.reasons }, { transport: "client-node", reasons: ['user "u" uses exec'] });
    assert.equal(await whoami(access), `system:serviceaccount:${ns}:plugin`);
    const client = new RestClient(access);
    const list = await client.list(CONFIGMAPS, ns);
    const w = await watchConfigMaps(access, ns, list.resourceVersion);
    t.after(() => w.handle.abort());
    await client.create(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "via-exec", namespace: ns } });
    await eventually("the create as an ADDED event", () => (w.events.some((e) => e.type === "ADDED" && e.obj.metadata?.name === "via-exec") ? true : undefined));
  });

  test("an unknown context is named, with the contexts there are", () => {
    assert.throws(() => loadKubeAccess({ kubeconfig: cluster.kubeconfigPath, context: "nope" }), /^KubeconfigError: context "nope" not found in kubeconfig .* \(it has: [^)]+\)$/);
  });
});
