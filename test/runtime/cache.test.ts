import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NAMESPACE_INDEX, ObjectCache, type IndexFunc } from "../../src/runtime/cache.ts";
import { byControllerUid, CONTROLLER_UID_INDEX } from "../../src/runtime/indexers.ts";
import type { KubeObject } from "../../src/runtime/resource.ts";

function cm(ns: string, name: string, rv: string, data: Record<string, string> = {}, owner?: string): KubeObject {
  return {
    kind: "ConfigMap",
    metadata: { namespace: ns, name, resourceVersion: rv, ...(owner ? { ownerReferences: [{ apiVersion: "v1", kind: "X", name: owner, uid: `uid-${owner}`, controller: true }] } : {}) },
    data,
  };
}
const byTeam: IndexFunc<KubeObject> = (o) => {
  const team = (o.data as Record<string, string> | undefined)?.team;
  return team ? team.split(",") : [];
};
const names = (objs: KubeObject[]) => objs.map((o) => o.metadata?.name).sort();

describe("ObjectCache indexes", () => {
  test("an index follows adds, updates that move an object between values, and deletes", () => {
    const cache = new ObjectCache();
    cache.addIndex("team", byTeam);
    cache.upsert(cm("a", "x", "1", { team: "red" }));
    cache.upsert(cm("a", "y", "1", { team: "red,blue" }));
    assert.deepEqual(names(cache.byIndex("team", "red")), ["x", "y"]);
    assert.deepEqual(names(cache.byIndex("team", "blue")), ["y"]);
    cache.upsert(cm("a", "x", "2", { team: "blue" }));
    assert.deepEqual(names(cache.byIndex("team", "red")), ["y"]);
    assert.deepEqual(names(cache.byIndex("team", "blue")), ["x", "y"]);
    cache.remove(cm("a", "y", "3"));
    assert.deepEqual(names(cache.byIndex("team", "red")), []);
    assert.equal(cache.countByIndex("team", "blue"), 1);
    assert.deepEqual(cache.indexValues("team"), ["blue"], "a value with no object left is dropped");
  });

  test("an index added later is built over what is cached; adding it again is a no-op, another function under its name throws", () => {
    const cache = new ObjectCache();
    cache.upsert(cm("a", "x", "1", {}, "owner1"));
    cache.upsert(cm("b", "y", "1", {}, "owner1"));
    cache.upsert(cm("b", "z", "1"));
    cache.addIndex(CONTROLLER_UID_INDEX, byControllerUid);
    cache.addIndex(CONTROLLER_UID_INDEX, byControllerUid);
    assert.deepEqual(names(cache.byIndex(CONTROLLER_UID_INDEX, "uid-owner1")), ["x", "y"]);
    assert.throws(() => cache.addIndex(CONTROLLER_UID_INDEX, () => []), /already has an index/);
    assert.throws(() => cache.byIndex("nope", "v"), /no index named nope/);
  });

  test("list(namespace) reads the namespace index, and a relist of one namespace updates only its own objects' entries", () => {
    const cache = new ObjectCache();
    cache.addIndex("team", byTeam);
    cache.upsert(cm("a", "x", "1", { team: "red" }));
    cache.upsert(cm("a", "gone", "1", { team: "red" }));
    cache.upsert(cm("b", "y", "1", { team: "red" }));
    const deltas = cache.replace([cm("a", "x", "2", { team: "blue" }), cm("a", "new", "2", { team: "red" })], "a");
    assert.deepEqual(deltas.map((d) => `${d.type} ${d.obj.metadata?.name}`), ["updated x", "added new", "deleted gone"]);
    assert.deepEqual(names(cache.list("a")), ["new", "x"]);
    assert.deepEqual(names(cache.byIndex(NAMESPACE_INDEX, "b")), ["y"]);
    assert.deepEqual(names(cache.byIndex("team", "red")), ["new", "y"]);
    assert.deepEqual(names(cache.byIndex("team", "blue")), ["x"]);
    cache.replace([], undefined);
    assert.equal(cache.size(), 0);
    assert.deepEqual(cache.indexValues("team"), []);
    assert.deepEqual(cache.indexValues(NAMESPACE_INDEX), []);
  });

  test("a lookup calls no index function: its cost is what it returns, not what the cache holds", () => {
    const cache = new ObjectCache();
    let calls = 0;
    cache.addIndex("team", (o) => {
      calls++;
      return byTeam(o);
    });
    for (let i = 0; i < 1000; i++) cache.upsert(cm("a", `o${i}`, "1", { team: i === 7 ? "red" : "blue" }));
    assert.equal(calls, 1000, "one call per added object");
    calls = 0;
    assert.deepEqual(names(cache.byIndex("team", "red")), ["o7"]);
    assert.equal(calls, 0);
    cache.upsert(cm("a", "o7", "2", { team: "red" }));
    assert.equal(calls, 2, "an update indexes the old and the new object once each");
  });
});
