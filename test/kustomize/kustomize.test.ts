/**
 * deploy/base and deploy/overlays/namespaced built by the env's real kubectl (kustomize v5 inside) and
 * applied with a server-side dry run to the test control plane.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { MANAGER_NODE_FLAGS } from "../../src/manager/node-flags.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { dryRunApply, ensureNamespaces } from "../chart/tools.ts";

const DEPLOY = join(import.meta.dirname, "..", "..", "deploy");

test("deploy/base (cluster-wide) applies with a server-side dry run", async () => {
  await ensureNamespaces(["qdrant-operator"]);
  const { stdout: manifests } = await kubectl(["kustomize", join(DEPLOY, "base")]);
  const out = await dryRunApply(manifests);
  assert.match(out, /clusterrole\.rbac\.authorization\.k8s\.io\/qdrant-operator serverside-applied/);
  assert.match(out, /deployment\.apps\/qdrant-operator serverside-applied/);
  assert.match(out, /service\/qdrant-operator-metrics serverside-applied/);
  assert.equal(out.match(/customresourcedefinition\.apiextensions\.k8s\.io\/\S+ serverside-applied/g)?.length, 6, out);
  assert.match(manifests, /image: ghcr\.io\/qdrant-operator\/qdrant-operator:0\.1\.0/);
});

test("deploy/base runs the manager's node with the manager's flags (src/manager/node-flags.ts)", async () => {
  const { stdout: manifests } = await kubectl(["kustomize", join(DEPLOY, "base")]);
  const deployment = parseAllDocuments(manifests)
    .map((d) => d.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: Array<{ name: string; command?: string[] }> } } } })
    .find((o) => o?.kind === "Deployment");
  const manager = deployment?.spec?.template?.spec?.containers?.find((c) => c.name === "manager");
  assert.deepEqual(manager?.command, ["node", ...MANAGER_NODE_FLAGS, "/app/dist/main.js"]);
});

test("deploy/overlays/namespaced has a Role in each watched namespace, no ClusterRole, and --namespaces", async () => {
  await ensureNamespaces(["qdrant-operator", "team-a", "team-b"]);
  const { stdout: manifests } = await kubectl(["kustomize", join(DEPLOY, "overlays", "namespaced")]);
  const out = await dryRunApply(manifests);
  assert.doesNotMatch(out, /clusterrole/);
  assert.equal(out.match(/role\.rbac\.authorization\.k8s\.io\/qdrant-operator serverside-applied/g)?.length, 2, out);
  assert.equal(out.match(/serviceaccount\/qdrant-operator-job serverside-applied/g)?.length, 2, out);
  assert.match(manifests, /name: WATCH_NAMESPACES\n\s+value: team-a,team-b/);
  // The per-namespace bindings keep their subject in the operator's namespace.
  const { stdout: binding } = await kubectl(["create", "--dry-run=server", "-o", "jsonpath={.subjects[0].namespace}", "-f", "-"],
    manifests.split(/^---$/m).find((d) => /kind: RoleBinding/.test(d) && /namespace: team-a/.test(d)));
  assert.equal(binding, "qdrant-operator");
});
