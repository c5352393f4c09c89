/**
 * The informer across a real kube-apiserver restart. Always on a private control plane (the shared one
 * must never restart under other test files): the restarted apiserver's watch cache begins at the current
 * resourceVersion, so the informer's re-watch gets a real 410 Gone and must relist without losing anything.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONFIGMAPS, informerHarness } from "./fixtures/informer-harness.ts";
import { eventually, startTestCluster } from "./fixtures/cluster.ts";

const h = informerHarness(() => startTestCluster({ own: true }));
const { startInformer, cm, put, valueIn } = h;

describe("informer across an apiserver restart", () => {
  test("an apiserver restart: updates made before, during and after arrive, through a 410 Gone and a relist", async (t) => {
    const ns = await h.cluster().namespace(t);
    await h.direct().create(CONFIGMAPS, cm(ns, "a", "1"));
    await h.direct().create(CONFIGMAPS, cm(ns, "doomed", "1"));
    const { informer, logs } = await startInformer(t, ns);

    h.proxy().cut(); // the informer is blind from here on
    await put(ns, "a", "2"); // seen by the apiserver's watch cache before the restart, never by the informer
    await h.cluster().restartApiserver!();
    await put(ns, "a", "3");
    await h.direct().delete(CONFIGMAPS, { namespace: ns, name: "doomed" });
    await h.direct().create(CONFIGMAPS, cm(ns, "born", "1"));
    h.proxy().resume();

    await eventually("the informer to catch up", () => (valueIn(informer, `${ns}/a`) === "3" && informer.cache.get(`${ns}/born`) && !informer.cache.get(`${ns}/doomed`) ? true : undefined));
    const s = informer.stats();
    t.diagnostic(`informer stats after the restart: ${JSON.stringify(s)}`);
    assert.ok(s.errors > 0, "the informer saw the connection fail");
    // A restarted apiserver's watch cache starts at the current resourceVersion; the informer's is older
    // (it missed a=2), so its re-watch is answered 410 Gone and it must relist.
    assert.ok(s.expired >= 1 && s.lists >= 2, "the re-watch after the restart got 410 Gone and relisted");
    assert.ok(!logs.text().includes('"level":"fatal"'));
  });
});
