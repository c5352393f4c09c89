/** The control plane serves CustomResourceDefinitions as a real one does: status subresource, schema, CEL. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiException, ApiextensionsV1Api, CustomObjectsApi, type V1CustomResourceDefinition } from "@kubernetes/client-node";
import { eventually, kubeConfig, useNamespace } from "../helpers/testenv.ts";

const GROUP = "testenv.qdrant-operator.dev";

function widgetCrd(plural: string): V1CustomResourceDefinition {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: { plural, singular: plural.slice(0, -1), kind: `${plural[0]!.toUpperCase()}${plural.slice(1, -1)}`, listKind: `${plural[0]!.toUpperCase()}${plural.slice(1, -1)}List` },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["size"],
                  properties: {
                    size: { type: "integer", minimum: 1 },
                    color: { type: "string", _enum: ["red", "blue"] },
                    minReplicas: { type: "integer" },
                    maxReplicas: { type: "integer" },
                  },
                  x_kubernetes_validations: [{ rule: "!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas", fieldPath: ".minReplicas" }],
                },
                status: { type: "object", properties: { phase: { type: "string" } } },
              },
            },
          },
        },
      ],
    },
  };
}

test("a CRD with a status subresource round-trips, and its schema and CEL rules reject bad input", async (t) => {
  const ns = await useNamespace(t, "crd");
  const kc = kubeConfig();
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  const plural = `widgets${process.pid}`;
  await ext.createCustomResourceDefinition({ body: widgetCrd(plural) });
  t.after(() => ext.deleteCustomResourceDefinition({ name: `${plural}.${GROUP}` }));
  await eventually("the CRD to be Established", async () => {
    const crd = await ext.readCustomResourceDefinition({ name: `${plural}.${GROUP}` });
    return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
  });
  const kind = widgetCrd(plural).spec.names.kind;
  const ref = { group: GROUP, version: "v1", namespace: ns, plural };

  const created = (await objects.createNamespacedCustomObject({ ...ref, body: { apiVersion: `${GROUP}/v1`, kind, metadata: { name: "w" }, spec: { size: 3 }, status: { phase: "ignored" } } })) as { metadata: { generation: number }; status?: unknown };
  assert.equal(created.status, undefined, "status is dropped on create: it belongs to the subresource");
  assert.equal(created.metadata.generation, 1);

  await objects.patchNamespacedCustomObjectStatus({ ...ref, name: "w", body: [{ op: "add", path: "/status", value: { phase: "Ready" } }] });
  const read = (await objects.getNamespacedCustomObject({ ...ref, name: "w" })) as { metadata: { generation: number }; spec: { size: number }; status: { phase: string } };
  assert.equal(read.status.phase, "Ready");
  assert.equal(read.metadata.generation, 1, "a status write does not bump the generation");
  assert.equal(read.spec.size, 3);

  const rejects = async (spec: Record<string, unknown>, field: RegExp) => {
    await assert.rejects(
      objects.createNamespacedCustomObject({ ...ref, body: { apiVersion: `${GROUP}/v1`, kind, metadata: { name: `bad-${Math.random().toString(36).slice(2, 8)}` }, spec } }),
      (err: unknown) => {
        assert.ok(err instanceof ApiException, String(err));
        assert.equal(err.code, 422);
        assert.match(String(err.body), field);
        return true;
      },
    );
  };
  await rejects({ size: 0 }, /spec\.size/);
  await rejects({ size: 1, color: "green" }, /spec\.color/);
  await rejects({ color: "red" }, /spec\.size/);
  await rejects({ size: 1, minReplicas: 5, maxReplicas: 2 }, /minReplicas must not exceed maxReplicas/);
});
