import assert from "node:assert/strict";
import { test } from "node:test";
import { enqueueObject, enqueueOwner, generationChanged, mapObjects } from "../../src/runtime/handlers.ts";
import { controllerReference, keyFromString, type KubeObject } from "../../src/runtime/resource.ts";

const owner: KubeObject = { apiVersion: "example.com/v1", kind: "Backup", metadata: { name: "nightly", namespace: "ns", uid: "u1" } };

function job(refs: NonNullable<KubeObject["metadata"]>["ownerReferences"], generation = 1): KubeObject {
  return { apiVersion: "batch/v1", kind: "Job", metadata: { name: "nightly-123", namespace: "ns", ownerReferences: refs, generation } };
}

test("events of an object enqueue its own key", () => {
  const keys: string[] = [];
  const h = enqueueObject<KubeObject>((k) => keys.push(k));
  h.onAdd!(owner);
  h.onDelete!(owner);
  assert.deepEqual(keys, ["ns/nightly", "ns/nightly"]);
  assert.deepEqual(keyFromString("ns/nightly"), { namespace: "ns", name: "nightly" });
  assert.deepEqual(keyFromString("cluster-scoped"), { namespace: "", name: "cluster-scoped" });
});

test("events of an owned Job enqueue its controlling owner of the right group and kind", () => {
  const keys: string[] = [];
  const h = enqueueOwner<KubeObject>((k) => keys.push(k), { group: "example.com", kind: "Backup" });
  h.onAdd!(job([controllerReference(owner)]));
  h.onAdd!(job([{ apiVersion: "other.io/v1", kind: "Backup", name: "x", uid: "u2", controller: true }]));
  h.onAdd!(job([{ apiVersion: "example.com/v1", kind: "Backup", name: "not-controller", uid: "u3" }]));
  h.onAdd!(job([{ apiVersion: "example.com/v1", kind: "Restore", name: "r", uid: "u4", controller: true }]));
  h.onAdd!(job(undefined));
  assert.deepEqual(keys, ["ns/nightly"]);
});

test("with controllerOnly false any owner reference of the kind counts; an update enqueues old and new owners", () => {
  const keys: string[] = [];
  const h = enqueueOwner<KubeObject>((k) => keys.push(k), { group: "example.com", kind: "Backup" }, { controllerOnly: false });
  const ref = (name: string) => ({ apiVersion: "example.com/v1", kind: "Backup", name, uid: name });
  h.onUpdate!(job([ref("old")]), job([ref("new")]));
  assert.deepEqual(keys, ["ns/old", "ns/new"]);
});

test("generationChanged passes adds, deletes and spec changes, and drops status-only updates", () => {
  const keys: string[] = [];
  const h = mapObjects<KubeObject>((k) => keys.push(k), (o) => [{ namespace: "ns", name: o.metadata!.name! }], generationChanged);
  h.onAdd!(job([], 1));
  h.onUpdate!(job([], 1), job([], 1));
  h.onUpdate!(job([], 1), job([], 2));
  h.onDelete!(job([], 2));
  assert.equal(keys.length, 1 + 2 + 1);
});

test("controllerReference needs a complete owner", () => {
  assert.deepEqual(controllerReference(owner), { apiVersion: "example.com/v1", kind: "Backup", name: "nightly", uid: "u1", controller: true, blockOwnerDeletion: true });
  assert.throws(() => controllerReference({ kind: "Backup", metadata: { name: "x" } }), /uid/);
});
