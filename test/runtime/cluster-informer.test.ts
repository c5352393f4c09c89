/**
 * The informer against a real kube-apiserver, with the connection broken on purpose through a TCP proxy:
 * an update made while the informer cannot see the apiserver must still reach its cache. (An apiserver
 * restart is in cluster-apiserver-restart.test.ts, on a private control plane.)
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONFIGMAPS, informerHarness } from "./fixtures/informer-harness.ts";
import { eventually, startTestCluster } from "./fixtures/cluster.ts";

const h = informerHarness(() => startTestCluster());
const { startInformer, cm, put, valueIn } = h;

describe("informer against a real apiserver", () => {
  test("a cut connection: changes made while it was down arrive after it comes back", async (t) => {
    const ns = await h.cluster().namespace(t);
    await h.direct().create(CONFIGMAPS, cm(ns, "a", "1"));
    await h.direct().create(CONFIGMAPS, cm(ns, "doomed", "1"));
    const { informer } = await startInformer(t, ns);
    assert.equal(valueIn(informer, `${ns}/a`), "1");
    const watchesBefore = informer.stats().watches;

    h.proxy().cut();
    await put(ns, "a", "2");
    await h.direct().create(CONFIGMAPS, cm(ns, "b", "1"));
    await h.direct().delete(CONFIGMAPS, { namespace: ns, name: "doomed" });
    await eventually("the informer to notice the cut", () => (informer.stats().errors > 0 ? true : undefined));
    h.proxy().resume();

    await eventually("the update made during the outage", () => (valueIn(informer, `${ns}/a`) === "2" && informer.cache.get(`${ns}/b`) && !informer.cache.get(`${ns}/doomed`) ? true : undefined));
    assert.ok(informer.stats().watches > watchesBefore, "the watch was re-established");
  });

  test("a silently stalled connection is abandoned after its timeout and the update still arrives", async (t) => {
    const ns = await h.cluster().namespace(t);
    await h.direct().create(CONFIGMAPS, cm(ns, "a", "1"));
    // Server-side timeout 2-4 s, and 1 s of grace: a watch older than 5 s is dead.
    const { informer } = await startInformer(t, ns, { minWatchTimeoutSeconds: 2, watchGraceMs: 1_000 });
    await eventually("a watch to be open", () => (informer.stats().watches > 0 ? true : undefined));
    assert.ok(h.proxy().stallExisting() > 0, "the watch connection was stalled");
    await put(ns, "a", "2");
    await eventually("the update made during the stall", () => (valueIn(informer, `${ns}/a`) === "2" ? true : undefined), 20_000);
    assert.ok(informer.stats().stalled >= 1, `stats: ${JSON.stringify(informer.stats())}`);
  });

  test("a watch of a quiet namespace stays open past the client library's 30 s idle limit (no re-watch twice a minute)", async (t) => {
    const ns = await h.cluster().namespace(t);
    // The default server-side timeout (300-600 s): the one watch should last the whole observation.
    const { informer } = await startInformer(t, ns);
    await eventually("a watch to be open", () => (informer.stats().watches > 0 ? true : undefined));
    // The length of the observation, not a readiness wait: 40 s of silence, past the library's 30 s.
    const until = Date.now() + 40_000;
    await eventually("40 s of a quiet namespace", () => (Date.now() >= until ? true : undefined), 60_000);
    const s = informer.stats();
    assert.deepEqual({ watches: s.watches, errors: s.errors, lists: s.lists }, { watches: 1, errors: 0, lists: 1 }, `stats: ${JSON.stringify(s)}`);
  });
});
