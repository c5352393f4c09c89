/**
 * The manager's normal path loads no module of @kubernetes/client-node (~81 MiB of RSS, its generated
 * API): a child process imports src/manager/run.ts and lists and watches through the runtime's own
 * loader, RestClient and watch, while a module hook records every client-node module loaded. A kubeconfig
 * that needs the library (username/password here) then loads it, which shows the hook sees it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { writeFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startTestCluster } from "./fixtures/cluster.ts";

const src = (p: string) => pathToFileURL(resolve(import.meta.dirname, "../../src", p)).href;

const CHILD = `
import { registerHooks } from "node:module";
const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    if (url.includes("/@kubernetes/client-node/")) loaded.push(url);
    return nextLoad(url, context);
  },
});
await import(${JSON.stringify(src("manager/run.ts"))});
const { loadKubeAccess } = await import(${JSON.stringify(src("runtime/kube-access.ts"))});
const { RestClient } = await import(${JSON.stringify(src("runtime/rest-client.ts"))});
const { kubeListerWatcher } = await import(${JSON.stringify(src("runtime/list-watch.ts"))});
const rt = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };
const lw = kubeListerWatcher(new RestClient(loadKubeAccess({ kubeconfig: process.env.TEST_KUBECONFIG })), rt);
const list = await lw.list("default", new AbortController().signal);
// A watch the server ends after a second.
const ended = await new Promise((done) => lw.watch("default", { resourceVersion: list.resourceVersion, timeoutSeconds: 1, allowWatchBookmarks: true }, () => {}, (err) => done(err === undefined ? "closed" : String(err))));
const normal = [...loaded];
await loadKubeAccess({ kubeconfig: process.env.TEST_FALLBACK_KUBECONFIG }).prepare();
console.log(JSON.stringify({ normal, ended, fallbackLoaded: loaded.length > normal.length }));
`;

test("the manager's normal path (import, list, watch) loads no module of @kubernetes/client-node", async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.stop());
  const dir = await mkdtemp(join(tmpdir(), "no-client-node-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fallback = join(dir, "basic.kubeconfig");
  await writeFile(fallback, "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {username: a, password: b}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n");
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", CHILD], {
    env: { ...process.env, TEST_KUBECONFIG: cluster.kubeconfigPath, TEST_FALLBACK_KUBECONFIG: fallback },
  });
  const out = JSON.parse(stdout.trim().split("\n").at(-1)!) as { normal: string[]; ended: string; fallbackLoaded: boolean };
  assert.deepEqual(out.normal, [], "client-node modules loaded on the normal path");
  assert.equal(out.ended, "closed", "the watch ran to the server's close");
  assert.equal(out.fallbackLoaded, true, "the hook sees client-node when a kubeconfig needs it");
});
