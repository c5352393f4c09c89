/**
 * deploy/rbac/ installs as its README says, with the kubectl users have (its built-in kustomize): each
 * folder renders, `kubectl apply -k deploy/rbac/namespace -n <ns>` grants the manager its Role in that
 * namespace, and an overlay per namespace keeps the binding's subject in the operator's namespace.
 */
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { RBAC_DIR } from "../../src/rbac/generate.ts";
import type { KubeObject } from "../../src/runtime/resource.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { can, serviceAccountKubeconfig } from "../helpers/operator-identity.ts";
import { eventually, useNamespace } from "../helpers/testenv.ts";

const render = async (dir: string) =>
  parseAllDocuments((await kubectl(["kustomize", dir])).stdout).map((d) => d.toJS() as KubeObject & { subjects?: Array<{ namespace?: string }> });
const names = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`).sort();

test("cluster-wide renders the operator's namespace objects and the ClusterRole with its binding", async () => {
  assert.deepEqual(names(await render(join(RBAC_DIR, "cluster-wide"))), [
    "ClusterRole//qdrant-operator",
    "ClusterRoleBinding//qdrant-operator",
    "Role/qdrant-operator/qdrant-operator-leader-election",
    "RoleBinding/qdrant-operator/qdrant-operator-leader-election",
    "ServiceAccount/qdrant-operator/qdrant-operator",
  ]);
});

test("an overlay per watched namespace places the Role there and keeps the subject in the operator's namespace", async () => {
  const dir = await mkdtemp(join(tmpdir(), "qdrant-operator-overlay-"));
  await writeFile(join(dir, "kustomization.yaml"), `namespace: team-a\nresources:\n  - ${relative(dir, join(RBAC_DIR, "namespace"))}\n`);
  const objects = await render(dir);
  assert.deepEqual(names(objects), ["Role/team-a/qdrant-operator", "RoleBinding/team-a/qdrant-operator", "ServiceAccount/team-a/qdrant-operator-job"]);
  assert.deepEqual(objects.find((o) => o.kind === "RoleBinding")?.subjects, [{ kind: "ServiceAccount", name: "qdrant-operator", namespace: "qdrant-operator" }]);
});

test("kubectl apply -k deploy/rbac/namespace -n <ns> grants the manager its Role in that namespace", async (t) => {
  const ns = await useNamespace(t, "rbac-apply");
  // The operator's namespace is the user's to create (other tests of this environment may have already).
  await kubectl(["create", "namespace", "qdrant-operator"]).catch((err: { stderr?: string }) => {
    if (!err.stderr?.includes("AlreadyExists")) throw err;
  });
  await kubectl(["apply", "-k", join(RBAC_DIR, "operator")]);
  const out = (await kubectl(["apply", "-k", join(RBAC_DIR, "namespace"), "-n", ns])).stdout;
  assert.match(out, /role\.rbac\.authorization\.k8s\.io\/qdrant-operator (created|configured|unchanged)/);
  const kubeconfig = await serviceAccountKubeconfig();
  await eventually("the manager's Role to take effect", async () => ((await can(kubeconfig, { verb: "watch", group: "qdrant-operator.dev", resource: "qdrantbackups", namespace: ns })) ? true : undefined));
  assert.equal(await can(kubeconfig, { verb: "list", group: "", resource: "secrets", namespace: ns }), false);
  const sa = JSON.parse((await kubectl(["get", "serviceaccount", "-n", ns, "qdrant-operator-job", "-o", "json"])).stdout) as { automountServiceAccountToken?: boolean };
  assert.equal(sa.automountServiceAccountToken, false);
});
