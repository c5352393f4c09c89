import assert from "node:assert/strict";
import { test } from "node:test";
import { stripForCache } from "../../src/runtime/cache-transform.ts";
import { FakeClock } from "../../src/runtime/clock.ts";
import { Informer } from "../../src/runtime/informer.ts";
import type { KubeObject } from "../../src/runtime/resource.ts";
import { CONFIGMAPS, FakeServer } from "./fixtures/fake-server.ts";
import { until } from "./fixtures/async.ts";
import { captureLogs } from "./fixtures/logs.ts";

const managedFields = [
  { manager: "kubectl", operation: "Update", apiVersion: "v1", time: "2026-01-01T00:00:00Z", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:schedule": {} } } },
  { manager: "qdrant-operator", operation: "Update", subresource: "status", fieldsType: "FieldsV1", fieldsV1: { "f:status": { "f:phase": {} } } },
];

/** Everything a controller reads of an object: metadata (but managedFields), spec, status. */
function object(name: string): KubeObject {
  return {
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: {
      name,
      namespace: "ns",
      uid: `uid-${name}`,
      resourceVersion: "7",
      generation: 2,
      creationTimestamp: "2026-01-01T00:00:00Z",
      labels: { "qdrant-operator.dev/schedule": "nightly" },
      annotations: { "qdrant-operator.dev/scheduled-time": "2026-01-01T00:00:00Z" },
      ownerReferences: [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: "nightly", uid: "s1", controller: true }],
      finalizers: ["qdrant-operator.dev/backup-data"],
      managedFields: structuredClone(managedFields),
    },
    spec: { connectionRef: { name: "qdrant" } },
    status: { phase: "Failed", conditions: [{ type: "Ready", status: "False", reason: "LocationReadOnly" }] },
  };
}

test("stripForCache drops metadata.managedFields and keeps every other field", () => {
  const o = object("a");
  const { managedFields: _dropped, ...metadata } = o.metadata!;
  const want = { ...structuredClone(o), metadata };
  assert.deepEqual(stripForCache(o), want);
  assert.equal(stripForCache(o), o, "in place: no second copy");
  const bare: KubeObject = { metadata: { name: "b" } };
  assert.deepEqual(stripForCache(bare), { metadata: { name: "b" } });
  assert.deepEqual(stripForCache({ kind: "X" }), { kind: "X" });
});

test("an informer's transform applies to listed and watched objects before the cache and the handlers see them", async () => {
  const server = new FakeServer();
  const logs = captureLogs();
  const withFields = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, managedFields: structuredClone(managedFields) } });
  const informer = new Informer<KubeObject>({ resource: CONFIGMAPS, listerWatcher: server, logger: logs.logger, clock: new FakeClock(), random: () => 0, transform: stripForCache });
  const seen: KubeObject[] = [];
  informer.addEventHandler({ onAdd: (o) => seen.push(o), onUpdate: (_old, o) => seen.push(o), onDelete: (o) => seen.push(o) });
  server.put("ns", "listed", "1");
  server.objects.set("ns/listed", withFields(server.objects.get("ns/listed")!));
  informer.start();
  assert.equal(await informer.waitForSync(), true);
  await until("watching", () => server.live().length === 1);
  // A watched object with managedFields (the fake server sends what it is given).
  server.live()[0]!.onEvent("ADDED", withFields({ apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: "ns", name: "watched", resourceVersion: "200" }, data: { v: "2" } }));
  for (const key of ["ns/listed", "ns/watched"]) {
    const cached = informer.cache.get(key);
    assert.ok(cached, key);
    assert.equal("managedFields" in (cached.metadata ?? {}), false, `${key} is cached without managedFields`);
    assert.ok(cached.metadata?.resourceVersion && cached.data, `${key} keeps the rest`);
  }
  assert.deepEqual(seen.map((o) => [o.metadata?.name, "managedFields" in (o.metadata ?? {})]), [["listed", false], ["watched", false]]);
  await informer.stop();
});
