/**
 * The informer against a real kube-apiserver, with the connection broken on purpose through a TCP proxy:
 * an update made while the informer cannot see the apiserver must still reach its cache.
 */
import assert from "node:assert/strict";
import { after, before, describe, test, type TestContext } from "node:test";
import { Informer, type InformerOptions } from "../../src/runtime/informer.ts";
import { kubeListerWatcher } from "../../src/runtime/list-watch.ts";
import type { KubeObject, ResourceType } from "../../src/runtime/resource.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { eventually, loadKubeConfig, startTestCluster, type TestCluster } from "./fixtures/cluster.ts";
import { captureLogs } from "./fixtures/logs.ts";
import { TcpProxy } from "./fixtures/tcp-proxy.ts";

const CONFIGMAPS: ResourceType = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true };

let cluster: TestCluster;
let direct: RestClient;
let proxy: TcpProxy;
let viaProxy: RestClient;

before(async () => {
  cluster = await startTestCluster();
  direct = new RestClient(cluster.kubeConfig());
  proxy = new TcpProxy(cluster.kubeConfig().getCurrentCluster()!.server);
  viaProxy = new RestClient(loadKubeConfig(await cluster.kubeconfigVia(await proxy.start())));
});

after(async () => {
  await proxy?.stop();
  await cluster?.stop();
});

async function startInformer(t: TestContext, ns: string, opts: Partial<InformerOptions<KubeObject>> = {}) {
  const logs = captureLogs();
  const informer = new Informer<KubeObject>({
    resource: CONFIGMAPS,
    listerWatcher: kubeListerWatcher(viaProxy, CONFIGMAPS),
    logger: logs.logger,
    namespaces: [ns],
    backoff: { initialMs: 200, maxMs: 2_000 },
    ...opts,
  });
  informer.start();
  t.after(() => informer.stop());
  await eventually("initial sync", () => (informer.hasSynced() ? true : undefined));
  return { informer, logs };
}

const cm = (ns: string, name: string, v: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data: { v } });
const put = async (ns: string, name: string, v: string) => {
  const cur = await direct.get(CONFIGMAPS, { namespace: ns, name });
  return direct.replace(CONFIGMAPS, { ...cur, data: { v } });
};
const valueIn = (inf: Informer<KubeObject>, key: string) => (inf.cache.get(key)?.data as { v?: string } | undefined)?.v;

describe("informer against a real apiserver", () => {
  test("a cut connection: changes made while it was down arrive after it comes back", async (t) => {
    const ns = await cluster.namespace(t);
    await direct.create(CONFIGMAPS, cm(ns, "a", "1"));
    await direct.create(CONFIGMAPS, cm(ns, "doomed", "1"));
    const { informer } = await startInformer(t, ns);
    assert.equal(valueIn(informer, `${ns}/a`), "1");
    const watchesBefore = informer.stats().watches;

    proxy.cut();
    await put(ns, "a", "2");
    await direct.create(CONFIGMAPS, cm(ns, "b", "1"));
    await direct.delete(CONFIGMAPS, { namespace: ns, name: "doomed" });
    await eventually("the informer to notice the cut", () => (informer.stats().errors > 0 ? true : undefined));
    proxy.resume();

    await eventually("the update made during the outage", () => (valueIn(informer, `${ns}/a`) === "2" && informer.cache.get(`${ns}/b`) && !informer.cache.get(`${ns}/doomed`) ? true : undefined));
    assert.ok(informer.stats().watches > watchesBefore, "the watch was re-established");
  });

  test("a silently stalled connection is abandoned after its timeout and the update still arrives", async (t) => {
    const ns = await cluster.namespace(t);
    await direct.create(CONFIGMAPS, cm(ns, "a", "1"));
    // Server-side timeout 2-4 s, and 1 s of grace: a watch older than 5 s is dead.
    const { informer } = await startInformer(t, ns, { minWatchTimeoutSeconds: 2, watchGraceMs: 1_000 });
    await eventually("a watch to be open", () => (informer.stats().watches > 0 ? true : undefined));
    assert.ok(proxy.stallExisting() > 0, "the watch connection was stalled");
    await put(ns, "a", "2");
    await eventually("the update made during the stall", () => (valueIn(informer, `${ns}/a`) === "2" ? true : undefined), 20_000);
    assert.ok(informer.stats().stalled >= 1, `stats: ${JSON.stringify(informer.stats())}`);
  });

  test(`an apiserver ${process.env.TESTENV_FILE ? "outage (shared cluster: seen through the proxy)" : "restart"}: updates made before, during and after arrive`, async (t) => {
    const ns = await cluster.namespace(t);
    await direct.create(CONFIGMAPS, cm(ns, "a", "1"));
    await direct.create(CONFIGMAPS, cm(ns, "doomed", "1"));
    const { informer, logs } = await startInformer(t, ns);

    proxy.cut(); // the informer is blind from here on
    await put(ns, "a", "2"); // seen by the apiserver's watch cache before the restart, never by the informer
    if (cluster.restartApiserver) await cluster.restartApiserver();
    await put(ns, "a", "3");
    await direct.delete(CONFIGMAPS, { namespace: ns, name: "doomed" });
    await direct.create(CONFIGMAPS, cm(ns, "born", "1"));
    proxy.resume();

    await eventually("the informer to catch up", () => (valueIn(informer, `${ns}/a`) === "3" && informer.cache.get(`${ns}/born`) && !informer.cache.get(`${ns}/doomed`) ? true : undefined));
    const s = informer.stats();
    t.diagnostic(`informer stats after the ${cluster.restartApiserver ? "restart" : "outage"}: ${JSON.stringify(s)}`);
    assert.ok(s.errors > 0, "the informer saw the connection fail");
    if (cluster.restartApiserver) {
      // A restarted apiserver's watch cache starts at the current resourceVersion; the informer's is older
      // (it missed a=2), so its re-watch is answered 410 Gone and it must relist.
      assert.ok(s.expired >= 1 && s.lists >= 2, "the re-watch after the restart got 410 Gone and relisted");
    }
    assert.ok(!logs.text().includes('"level":"fatal"'));
  });
});
