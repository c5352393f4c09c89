/**
 * The operator's identity under the generated RBAC, against the real apiserver's authorizer: in a watched
 * namespace it may do exactly what deploy/rbac/ grants and nothing it must not (list or watch Secrets,
 * touch Pods beyond listing them, act outside the namespaces it was granted); bound cluster-wide, the
 * same rules hold in every namespace; and a manager under it takes its leader-election Lease.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { ensureCrds } from "../helpers/crds.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { startManager } from "../helpers/manager.ts";
import { applyAsAdmin, can, deployObjects, grantsOf, managerIdentity, OPERATOR_NAMESPACE, serviceAccountKubeconfig, type AccessQuery } from "../helpers/operator-identity.ts";
import { eventually, kubeAccess, testEnv, useNamespace } from "../helpers/testenv.ts";

const denied = async (kubeconfig: string, queries: AccessQuery[]) =>
  (await Promise.all(queries.map(async (q) => ((await can(kubeconfig, q)) ? undefined : `${q.verb} ${q.resource} in ${q.namespace ?? "*"}`)))).filter((x) => x !== undefined);
const allowed = async (kubeconfig: string, queries: AccessQuery[]) =>
  (await Promise.all(queries.map(async (q) => ((await can(kubeconfig, q)) ? `${q.verb} ${q.resource} in ${q.namespace ?? "*"}` : undefined)))).filter((x) => x !== undefined);

/** What the operator must never be able to do, in `namespace` (or, without one, across the cluster). */
function mustNot(namespace?: string): AccessQuery[] {
  const ns = namespace ? { namespace } : {};
  return [
    { verb: "list", group: "", resource: "secrets", ...ns },
    { verb: "watch", group: "", resource: "secrets", ...ns },
    { verb: "create", group: "", resource: "secrets", ...ns },
    { verb: "delete", group: "", resource: "secrets", ...ns },
    { verb: "create", group: "", resource: "pods", ...ns },
    { verb: "delete", group: "", resource: "pods", ...ns },
    { verb: "create", group: "", resource: "serviceaccounts/token", ...ns },
    { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", ...ns },
    { verb: "update", group: "qdrant-operator.dev", resource: "qdrantbackups", ...ns },
  ];
}

test("in a watched namespace the manager may do what deploy/rbac grants, and never list Secrets", async (t) => {
  const ns = await useNamespace(t, "rbac-id");
  const other = await useNamespace(t, "rbac-unwatched");
  const kubeconfig = await managerIdentity([ns]);
  const role = (await deployObjects("namespace")).find((o) => o.kind === "Role")!;
  const grants = grantsOf(role, ns);
  assert.ok(grants.some((g) => g.resource === "secrets" && g.verb === "get"));
  assert.deepEqual(await denied(kubeconfig, grants), []);
  assert.deepEqual(await allowed(kubeconfig, mustNot(ns)), []);
  // Nothing outside the namespaces it was given, and nothing cluster-wide.
  assert.deepEqual(await allowed(kubeconfig, grantsOf(role, other)), []);
  assert.deepEqual(await allowed(kubeconfig, grantsOf(role)), []);

  // As a user would check it: kubectl auth can-i with the manager's token (exit 1 and "no" when denied).
  const kubectlBin = testEnv().local?.kubectl ?? "kubectl";
  const run = promisify(execFile);
  assert.equal((await run(kubectlBin, ["--kubeconfig", kubeconfig, "auth", "can-i", "get", "secrets", "-n", ns])).stdout.trim(), "yes");
  await assert.rejects(run(kubectlBin, ["--kubeconfig", kubeconfig, "auth", "can-i", "list", "secrets", "-n", ns]), (err: { stdout?: string }) => err.stdout?.trim() === "no");
});

test("bound cluster-wide, the ClusterRole grants the same in every namespace and still no Secret listing", async (t) => {
  const ns = await useNamespace(t, "rbac-cluster");
  const anywhere = await useNamespace(t, "rbac-anywhere");
  // A ServiceAccount of this test's own, so no other test's manager gains cluster-wide rights.
  const sa = "cluster-wide-operator";
  await applyAsAdmin([{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: sa } }], ns);
  const objects = await deployObjects("cluster-wide");
  const clusterRole = objects.find((o) => o.kind === "ClusterRole");
  const binding = objects.find((o) => o.kind === "ClusterRoleBinding");
  assert.ok(clusterRole && binding, "deploy/rbac/cluster-wide/ has a ClusterRole and its binding");
  await applyAsAdmin([clusterRole]);
  const testBinding = { ...binding, metadata: { name: `qdrant-operator-test-${ns}` }, subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }] };
  await applyAsAdmin([testBinding]);
  const client = new RestClient(kubeAccess());
  t.after(() => client.request("DELETE", `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${testBinding.metadata.name}`));
  const kubeconfig = await serviceAccountKubeconfig(ns, sa);

  const everywhere = grantsOf(clusterRole);
  await eventually("the ClusterRoleBinding to take effect", async () => ((await denied(kubeconfig, everywhere)).length === 0 ? true : undefined));
  assert.deepEqual(await denied(kubeconfig, grantsOf(clusterRole, anywhere)), []);
  assert.deepEqual(await allowed(kubeconfig, [...mustNot(), ...mustNot(anywhere)]), []);
  // The Lease is the operator namespace's Role's, not the ClusterRole's.
  assert.equal(await can(kubeconfig, { verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: anywhere }), false);
});

test("a manager under the generated RBAC takes its leader-election Lease in the operator's namespace", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "rbac-lease");
  const leaseName = `rbac-test-${ns}`;
  const manager = await startManager(t, [ns], ["--leader-elect=true", `--leader-election-namespace=${OPERATOR_NAMESPACE}`, `--leader-election-id=${leaseName}`, "--lease-duration=15s"]);
  assert.match(await manager.log(), /Successfully acquired lease/);
  const lease = JSON.parse((await kubectl(["get", "lease", "-n", OPERATOR_NAMESPACE, leaseName, "-o", "json"])).stdout) as { spec: { holderIdentity: string } };
  assert.ok(lease.spec.holderIdentity, "the lease names its holder");
  await manager.stop();
  // Released on a clean stop (an update with an empty holder), which the Role must allow too.
  await eventually("the lease to be released", async () => {
    const l = JSON.parse((await kubectl(["get", "lease", "-n", OPERATOR_NAMESPACE, leaseName, "-o", "json"])).stdout) as { spec: { holderIdentity?: string } };
    return l.spec.holderIdentity ? undefined : true;
  });
  await kubectl(["delete", "lease", "-n", OPERATOR_NAMESPACE, leaseName]);
});
