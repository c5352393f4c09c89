/** The control plane authorizes with RBAC, and the helper mints working identities for any user/group. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiException, CoreV1Api, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { eventually, kubeConfig, kubeconfigFor, useNamespace } from "../helpers/testenv.ts";

test("a minted user is forbidden until a RoleBinding grants it, through its group", async (t) => {
  const ns = await useNamespace(t, "rbac");
  const alice = kubeConfig(await kubeconfigFor("alice", ["qdrant-operators"])).makeApiClient(CoreV1Api);
  await assert.rejects(alice.listNamespacedConfigMap({ namespace: ns }), (err: unknown) => {
    assert.ok(err instanceof ApiException);
    assert.equal(err.code, 403);
    assert.match((JSON.parse(String(err.body)) as { message: string }).message, /User "alice" cannot list resource "configmaps"/);
    return true;
  });

  await kubeConfig().makeApiClient(CoreV1Api).createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "visible" } } });
  const rbac = kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "read-cm" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["list"] }] } });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: "read-cm" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "read-cm" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "qdrant-operators" }],
    },
  });
  // The authorizer's RBAC cache follows the binding through a watch; wait for it rather than assume.
  const list = await eventually("alice's access to follow the RoleBinding", () => alice.listNamespacedConfigMap({ namespace: ns }));
  assert.ok(list.items.some((c) => c.metadata?.name === "visible"));
  await assert.rejects(alice.listNamespacedSecret({ namespace: ns }), (err: unknown) => err instanceof ApiException && err.code === 403);
});
