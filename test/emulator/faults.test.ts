import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { emulatorOnly, errorText, raw, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("fault injection (admin API)", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget({ peers: 2 });
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function collection(): Promise<string> {
    const name = uniqueName("faults");
    await target.client().createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    await target.client().upsert(name, { points: Array.from({ length: 50 }, (_, i) => ({ id: i, vector: [i, i], payload: { text: "x".repeat(200) } })) });
    return name;
  }

  it("fails the next N snapshot creations with the given status and message, then recovers", async (t) => {
    if (emulatorOnly(t, "injects faults")) return;
    const name = await collection();
    const message = "Service internal error: failed to create snapshot: No space left on device (os error 28)";
    await target.admin?.failNext({ method: "POST", path: "/collections/{collection_name}/snapshots" }, 500, message, 2);
    for (let i = 0; i < 2; i++) {
      const r = await raw(`${target.url}/collections/${name}/snapshots`, { method: "POST" });
      assert.equal(r.status, 500);
      assert.equal(errorText(r), message);
    }
    assert.deepEqual(await target.admin?.faults(), []);
    assert.ok((await target.client().createSnapshot(name)) !== null);
    const files = await target.admin?.files(1);
    assert.equal(files?.snapshots.filter((f) => f.path.startsWith(`${name}/`)).length, 2, "one snapshot and its .checksum");
    assert.deepEqual(files?.tmp, []);
  });

  it("targets one peer and glob paths", async (t) => {
    if (emulatorOnly(t, "injects faults")) return;
    const name = await collection();
    await target.admin?.failNext({ path: "/collections/*/points/count", peer: 2 }, 503, "Shard temporarily unavailable: injected");
    assert.equal((await target.client(1).count(name)).count, 50);
    const r = await raw(`${target.peers[1]}/collections/${name}/points/count`, { method: "POST", body: "{}" });
    assert.equal(r.status, 503);
    assert.equal(errorText(r), "Shard temporarily unavailable: injected");
  });

  it("delays a request", async (t) => {
    if (emulatorOnly(t, "injects faults")) return;
    await target.admin?.delayNext({ method: "GET", path: "/collections" }, 300);
    const started = Date.now();
    assert.equal((await raw(`${target.url}/collections`)).status, 200);
    assert.ok(Date.now() - started >= 290, "the answer came after the delay");
  });

  it("a peer taken down while it holds a delayed request does nothing with it (a killed Qdrant would not)", async (t) => {
    if (emulatorOnly(t, "injects faults and takes a peer down")) return;
    const name = await collection();
    const hold = await target.admin!.delayNext({ method: "POST", path: `/collections/${name}/snapshots`, peer: 2 }, 1000);
    const created = fetch(`${target.directPeers[1]}/collections/${name}/snapshots`, { method: "POST" });
    while ((await target.admin!.faults()).some((f) => f.id === hold.id)) await new Promise((r) => setTimeout(r, 20));
    await target.admin!.peerDown(2);
    await assert.rejects(created, "the held request's connection is cut");
    await target.admin!.peerUp(2); // back before the delay ends: the request still belongs to the dead process
    await new Promise((r) => setTimeout(r, 1200)); // past the delay: what the handler would have done is done by now
    assert.deepEqual((await target.admin!.files(2)).snapshots.filter((f) => f.path.startsWith(`${name}/`)), [], "no snapshot made behind the client's back");
  });

  it("cuts a snapshot download after K bytes", async (t) => {
    if (emulatorOnly(t, "injects faults")) return;
    const name = await collection();
    const desc = await target.client().createSnapshot(name);
    assert.ok(desc !== null && desc.size > 4096);
    await target.admin?.cutNext({ path: "/collections/{collection_name}/snapshots/{snapshot_name}" }, 4096);
    const res = await fetch(`${target.directPeers[0]}/collections/${name}/snapshots/${desc.name}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), String(desc.size));
    let received = 0;
    await assert.rejects(async () => {
      for await (const chunk of res.body ?? []) received += (chunk as Uint8Array).byteLength;
    });
    assert.equal(received, 4096);
    const again = await fetch(`${target.directPeers[0]}/collections/${name}/snapshots/${desc.name}`);
    assert.equal((await again.arrayBuffer()).byteLength, desc.size, "only the next download was cut");
  });

  it("fails a download route as text/plain", async (t) => {
    if (emulatorOnly(t, "injects faults")) return;
    const name = await collection();
    const desc = await target.client().createSnapshot(name);
    await target.admin?.failNext({ path: "/collections/**" , method: "GET" }, 500, "Service internal error: injected");
    const r = await raw(`${target.url}/collections/${name}/snapshots/${desc?.name}`);
    assert.equal(r.status, 500);
    assert.equal(r.text, "Service internal error: injected");
  });

  it("lists the peers and the files on each peer's disk", async (t) => {
    if (emulatorOnly(t, "uses the admin API")) return;
    const peers = await target.admin?.peers();
    assert.deepEqual(peers?.map((p) => [p.number, p.up, new URL(p.url).hostname]), [[1, true, "127.0.0.1"], [2, true, "127.0.0.2"]]);
    const name = await collection();
    const desc = await target.client(2).createSnapshot(name);
    const files = await target.admin?.files(2);
    assert.deepEqual(files?.snapshots.filter((f) => f.path.startsWith(`${name}/`)).map((f) => f.path), [`${name}/${desc?.name}`, `${name}/${desc?.name}.checksum`]);
  });
});
