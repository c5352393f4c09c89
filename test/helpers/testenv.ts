/**
 * What a test file needs from the shared environment that `npm test` started (test/run.ts): its
 * description, API clients, a namespace of its own, and certificates for any user.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { loadKubeAccess, type KubeAccess } from "../../src/runtime/kube-access.ts";
import { kubeconfigYaml } from "../env/control-plane.ts";
import type { EnvironmentInfo } from "../env/environment.ts";
import { loadCertificateAuthority } from "../env/pki.ts";

let cached: EnvironmentInfo | undefined;

/** The environment's description; fails clearly when a test file is run outside `npm test`. */
export function testEnv(): EnvironmentInfo {
  if (cached) return cached;
  const file = process.env.TESTENV_FILE;
  if (!file) throw new Error("TESTENV_FILE is not set: run tests through `npm test` (or `node test/run.ts <files>`)");
  cached = JSON.parse(readFileSync(file, "utf8")) as EnvironmentInfo;
  return cached;
}

export function kubeConfig(path = testEnv().kubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** The access RestClient sends with, from the kubeconfig file through the manager's own loader (kube-access.ts). */
export function kubeAccess(path = testEnv().kubeconfig): KubeAccess {
  return loadKubeAccess({ kubeconfig: path });
}

/** True for "not found" from the API, whatever the call. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

let counter = 0;
const deletionStarted = new Map<string, number>();

/**
 * When the test's end began deleting a namespace of {@link useNamespace} (ms since the epoch): from then
 * on the namespace controller removes its objects, the manager's RoleBinding among them, so a refusal a
 * still-running manager logs there is teardown, not a missing permission.
 */
export function namespaceDeletionStarted(name: string): number | undefined {
  return deletionStarted.get(name);
}

const beforeDeletion = new WeakMap<TestContext, Array<() => Promise<void>>>();

/**
 * Runs `hook` when the test's end starts deleting the first of its {@link useNamespace} namespaces, before
 * that (or at the test's end when it made none: the caller registers a `t.after` too). For what must read
 * the namespaces while their objects are still there, whichever order the hooks were registered in: the
 * secret scan (secret-scan.ts) reads Events, statuses and pods.
 */
export function beforeNamespacesDeleted(t: TestContext, hook: () => Promise<void>): void {
  const hooks = beforeDeletion.get(t) ?? [];
  hooks.push(hook);
  beforeDeletion.set(t, hooks);
}

/**
 * Creates a namespace for one test and deletes it when the test ends (the namespace controller then
 * removes everything in it). Names carry the pid so parallel test files never collide.
 */
export async function useNamespace(t: TestContext, prefix = "t"): Promise<string> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  const name = `${prefix}-${process.pid}-${++counter}`.toLowerCase().replace(/[^a-z0-9-]/g, "-").slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { "qdrant-operator.test/suite": "true" } } } });
  t.after(async () => {
    const hooks = beforeDeletion.get(t) ?? [];
    beforeDeletion.delete(t);
    let failed: Error | undefined;
    for (const hook of hooks) await hook().catch((err: unknown) => (failed ??= err instanceof Error ? err : new Error(String(err))));
    deletionStarted.set(name, Date.now());
    await core.deleteNamespace({ name }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    // A hook's failure fails the test, once the namespace is on its way out all the same.
    if (failed !== undefined) throw failed;
  });
  return name;
}

/** Writes a kubeconfig for `user` in `groups`, signed by the local cluster's CA. */
export async function kubeconfigFor(user: string, groups: string[]): Promise<string> {
  const local = testEnv().local;
  if (!local) throw new Error("minting client certificates needs the local control plane (KUBECONFIG points elsewhere)");
  const ca = await loadCertificateAuthority(await readFile(local.caCert, "utf8"), await readFile(local.caKey, "utf8"));
  const cert = await ca.sign({ commonName: user, organizations: groups, usage: "client" });
  const server = kubeConfig().getCurrentCluster()!.server;
  const dir = await mkdtemp(join(tmpdir(), "qdrant-operator-kubeconfig-"));
  const path = join(dir, "kubeconfig.yaml");
  await writeFile(path, kubeconfigYaml({ server, caPem: ca.cert, user, cert }), { mode: 0o600 });
  return path;
}

export { eventually } from "./eventually.ts";
