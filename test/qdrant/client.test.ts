/**
 * The Qdrant adapter (src/qdrant/client.ts) against the emulator: the js-client calls restores and
 * rollouts will make (collections, one-request alias switch, count, query, upsert, scroll), the raw
 * ones backups make (cluster, snapshots), the coded errors, and the abort signal stopping calls in flight.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { AdminClient } from "../emulator/admin-client.ts";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { isOperatorError } from "../../src/errors.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { runWithSignal } from "../../src/runtime/reconcile-signal.ts";

/** A port nothing listens on: one the OS just handed out and that was closed again. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const vectors = { size: 4, distance: "Cosine" as const };

/** True when the adapter threw the caller's own abort reason (not a coded Qdrant error). */
function isAbort(reason: unknown): (err: unknown) => boolean {
  return (err) => {
    assert.equal(isOperatorError(err), false, `an aborted call is not Qdrant's failure: ${String(err)}`);
    assert.equal(err, reason);
    return true;
  };
}

describe("QdrantApi", () => {
  let emu: EmulatorHandle;
  let admin: AdminClient;
  let qdrant: QdrantApi;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    qdrant = new QdrantApi({ url: emu.url, timeoutMs: 30_000 });
  });
  after(async () => {
    await emu.stop();
  });

  it("creates a collection, fills it, counts and queries it, and deletes it", async () => {
    await qdrant.createCollection("life", { vectors });
    assert.equal(await qdrant.collectionExists("life"), true);
    assert.ok((await qdrant.listCollections()).includes("life"));
    assert.deepEqual((await qdrant.collectionConfig("life")).params, { vectors, shard_number: 1, replication_factor: 1, write_consistency_factor: 1, on_disk_payload: true });
    await qdrant.upsert("life", [
      { id: 1, vector: [1, 0, 0, 0], payload: { tag: "a" } },
      { id: 2, vector: [0, 1, 0, 0], payload: { tag: "b" } },
      { id: 3, vector: [0.9, 0.1, 0, 0], payload: { tag: "a" } },
    ]);
    assert.equal(await qdrant.count("life"), 3);
    assert.equal(await qdrant.count("life", { filter: { must: [{ key: "tag", match: { value: "a" } }] } }), 2);
    const found = await qdrant.query("life", { query: [1, 0, 0, 0], limit: 2 });
    assert.deepEqual(found.points.map((p) => p.id), [1, 3]);
    const page = await qdrant.scroll("life", { limit: 2, with_payload: true });
    assert.deepEqual(page.points.map((p) => [p.id, p.payload]), [[1, { tag: "a" }], [2, { tag: "b" }]]);
    assert.equal(page.next_page_offset, 3);
    assert.equal(await qdrant.deleteCollection("life"), true);
    assert.equal(await qdrant.collectionExists("life"), false);
    assert.equal(await qdrant.deleteCollection("life"), false, "deleting a missing collection is not an error");
  });

  it("switches an alias from one collection to another in one request", async () => {
    await qdrant.createCollection("blue", { vectors });
    await qdrant.createCollection("green", { vectors });
    await qdrant.updateAliases([{ create_alias: { alias_name: "prod", collection_name: "blue" } }]);
    assert.deepEqual((await qdrant.listAliases()).filter((a) => a.alias === "prod"), [{ alias: "prod", collection: "blue" }]);
    await qdrant.updateAliases([{ delete_alias: { alias_name: "prod" } }, { create_alias: { alias_name: "prod", collection_name: "green" } }]);
    assert.deepEqual((await qdrant.listAliases()).filter((a) => a.alias === "prod"), [{ alias: "prod", collection: "green" }]);
  });

  it("reads where a collection's shards are, and makes, downloads and deletes a snapshot on the peer", async () => {
    await qdrant.createCollection("snap", { vectors });
    await qdrant.upsert("snap", [{ id: 7, vector: [1, 2, 3, 4] }]);
    const [peer] = await admin.peers();
    const cluster = await qdrant.collectionCluster("snap");
    assert.equal(cluster.peerId, String(peer!.id));
    assert.deepEqual(cluster.localShards, [{ shardId: 0, pointsCount: 1, state: "Active" }]);
    assert.equal(await qdrant.peerId(), String(peer!.id), "a standalone Qdrant gives its id through a collection");
    assert.equal(await qdrant.version(), "1.19.0");

    const scope = { collection: "snap" };
    const snapshot = await qdrant.createSnapshot(scope);
    const { body, contentLength } = await qdrant.downloadSnapshot(scope, snapshot.name);
    let size = 0;
    for await (const chunk of body) size += (chunk as Buffer).length;
    assert.equal(size, snapshot.size);
    assert.equal(contentLength, snapshot.size);
    assert.equal(await qdrant.deleteSnapshot(scope, snapshot.name), true);
    assert.equal(await qdrant.deleteSnapshot(scope, snapshot.name), false, "already gone");
  });

  it("turns Qdrant's answers and silences into coded errors", async () => {
    await assert.rejects(qdrant.count("nope"), (err) => isOperatorError(err, "QDRANT_NOT_FOUND") && err.message === `POST ${emu.url}/collections/nope/points/count: Not found: Collection \`nope\` doesn't exist!`);
    await assert.rejects(qdrant.collectionCluster("nope"), (err) => isOperatorError(err, "QDRANT_NOT_FOUND"));
    await qdrant.createCollection("taken", { vectors });
    await assert.rejects(qdrant.createCollection("taken", { vectors }), (err) => isOperatorError(err, "QDRANT_API_ERROR") && / 409 /.test(err.message));
    await assert.rejects(qdrant.updateAliases([{ create_alias: { alias_name: "x", collection_name: "missing" } }]), (err) => isOperatorError(err, "QDRANT_NOT_FOUND"));

    await admin.delayNext({ method: "GET", path: "/collections" }, 2_000);
    const impatient = new QdrantApi({ url: emu.url, timeoutMs: 200 });
    await assert.rejects(impatient.listCollections(), (err) => isOperatorError(err, "QDRANT_UNREACHABLE") && err.message === `GET ${emu.url}/collections: no answer within 200 ms`);

    const port = await closedPort();
    const closed = new QdrantApi({ url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 });
    await assert.rejects(closed.listCollections(), (err) => isOperatorError(err, "QDRANT_UNREACHABLE") && err.message.startsWith(`GET http://127.0.0.1:${port}/collections: ECONNREFUSED`));
    await assert.rejects(closed.version(), (err) => isOperatorError(err, "QDRANT_UNREACHABLE") && err.message.startsWith(`GET http://127.0.0.1:${port}/: ECONNREFUSED`));
  });

  it("keeps a URL's path (Qdrant behind a path prefix) on js-client and raw calls alike", async (t) => {
    const upstream = new URL(emu.url);
    const proxy = createHttpServer((req, res) => {
      if (!req.url?.startsWith("/qdrant/")) {
        res.writeHead(404).end("not under /qdrant");
        return;
      }
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url.slice("/qdrant".length), headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise((resolve) => proxy.close(resolve)));
    const prefixed = new QdrantApi({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/qdrant/`, timeoutMs: 5_000 });
    await prefixed.createCollection("prefixed", { vectors });
    assert.ok((await prefixed.listCollections()).includes("prefixed"));
    assert.equal(await prefixed.version(), "1.19.0");
    assert.equal((await prefixed.collectionCluster("prefixed")).localShards.length, 1);
  });

  it("refuses a wrong API key with QdrantUnauthorized, on js-client and raw calls alike", async () => {
    const locked = await startEmulator({ apiKey: "right" });
    try {
      const wrong = new QdrantApi({ url: locked.url, timeoutMs: 5_000, apiKey: "wrong" });
      await assert.rejects(wrong.listCollections(), (err) => isOperatorError(err, "QDRANT_UNAUTHORIZED"));
      await assert.rejects(wrong.clusterStatus(), (err) => isOperatorError(err, "QDRANT_UNAUTHORIZED"));
      const right = new QdrantApi({ url: locked.url, timeoutMs: 5_000, apiKey: "right" });
      assert.deepEqual(await right.listCollections(), []);
      assert.equal((await right.clusterStatus()).status, "disabled");
    } finally {
      await locked.stop();
    }
  });
});

/**
 * A reconcile's signal stops what it has in flight. Each call is held by a delay fault far longer than
 * the test needs; the signal is aborted once the emulator has taken the request (the fault is consumed),
 * and the call must reject with the signal's reason at once rather than answer after the delay.
 */
describe("QdrantApi and the abort signal", () => {
  const HELD_MS = 15_000;
  const LOST = new Error("lost the lease");
  let emu: EmulatorHandle;
  let admin: AdminClient;
  before(async () => {
    emu = await startEmulator();
    admin = new AdminClient(emu.adminUrl);
    await new QdrantApi({ url: emu.url, timeoutMs: 30_000 }).createCollection("held", { vectors });
  });
  after(async () => {
    await emu.stop();
  });

  /** Starts `call` once a delay fault holds `route`; aborts `abort` when the emulator has taken the request. */
  async function abortWhileHeld<T>(route: { method: string; path: string }, abort: AbortController, call: () => Promise<T>): Promise<{ pending: Promise<T> }> {
    const fault = await admin.delayNext(route, HELD_MS);
    const pending = call();
    pending.catch(() => undefined);
    await eventually("the emulator holding the request", async () => ((await admin.faults()).some((f) => f.id === fault.id) ? undefined : true));
    abort.abort(LOST);
    return { pending };
  }

  it("stops a js-client call (count) in flight", async () => {
    const abort = new AbortController();
    const qdrant = new QdrantApi({ url: emu.url, timeoutMs: 60_000 });
    const { pending } = await abortWhileHeld({ method: "POST", path: "/collections/held/points/count" }, abort, () => qdrant.count("held", {}, { signal: abort.signal }));
    await assert.rejects(pending, isAbort(LOST));
  });

  it("stops a raw call with no client-side timeout (snapshot create) in flight", async () => {
    const abort = new AbortController();
    const qdrant = new QdrantApi({ url: emu.url, timeoutMs: 60_000 });
    const { pending } = await abortWhileHeld({ method: "POST", path: "/collections/held/snapshots" }, abort, () => qdrant.createSnapshot({ collection: "held" }, { signal: abort.signal }));
    await assert.rejects(pending, isAbort(LOST));
  });

  it("stops every call of an adapter bound to a reconcile's signal, at every peer address", async () => {
    const abort = new AbortController();
    // Bound at the connection's address, called at a peer's own (here the emulator; the connection's is never called).
    const bound = new QdrantApi({ url: "http://127.0.0.1:1", timeoutMs: 60_000 }).withSignal(abort.signal).at(emu.url);
    const { pending } = await abortWhileHeld({ method: "GET", path: "/cluster" }, abort, () => bound.clusterStatus());
    await assert.rejects(pending, isAbort(LOST));
    await assert.rejects(bound.listCollections(), isAbort(LOST), "a stopped adapter sends nothing more");
  });

  it("stops a call made inside a reconcile when the reconcile's ambient signal aborts, with no signal passed", async () => {
    const abort = new AbortController();
    const qdrant = new QdrantApi({ url: emu.url, timeoutMs: 60_000 });
    const { pending } = await abortWhileHeld({ method: "GET", path: "/collections" }, abort, () => runWithSignal(abort.signal, () => qdrant.listCollections()));
    await assert.rejects(pending, isAbort(LOST));
  });

  it("stops a snapshot download mid-body", async () => {
    const qdrant = new QdrantApi({ url: emu.url, timeoutMs: 60_000 });
    await qdrant.createCollection("big", { vectors });
    for (let b = 0; b < 4; b++) {
      await qdrant.upsert("big", Array.from({ length: 8 }, (_, i) => ({ id: b * 8 + i + 1, vector: [1, i, b, 1], payload: { blob: "x".repeat(512 * 1024) } })));
    }
    const snapshot = await qdrant.createSnapshot({ collection: "big" });
    const abort = new AbortController();
    const { body } = await qdrant.downloadSnapshot({ collection: "big" }, snapshot.name, { signal: abort.signal });
    let size = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          if (!abort.signal.aborted) abort.abort(LOST);
        }
      })(),
      isAbort(LOST),
    );
    assert.ok(size < snapshot.size, `stopped before the end: ${size} of ${snapshot.size} bytes`);
    await qdrant.deleteSnapshot({ collection: "big" }, snapshot.name);
  });
});
