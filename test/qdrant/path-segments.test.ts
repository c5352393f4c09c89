/**
 * The adapter never sends a dot-segment path: `.`, `..` and "" as a collection or snapshot name are
 * refused before any request (so `/collections/../snapshots` never reaches the full-storage snapshots),
 * and every other name travels as exactly one percent-encoded segment. Against a recording HTTP server
 * that answers everything, so a request that should not have been sent is seen, not refused by it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isOperatorError, type ErrorCode } from "../../src/errors.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { qdrantJson } from "../../src/qdrant/rest.ts";

/** A plausible `result` for any call, by the path's last segment: enough for the adapter to read it. */
function resultFor(path: string): unknown {
  const last = path.split("/").at(-1) ?? "";
  if (last === "exists") return { exists: true };
  if (last === "cluster") return { peer_id: 1, local_shards: [], remote_shards: [] };
  if (last === "count") return { count: 0 };
  if (last === "snapshots") return { name: "s.snapshot", size: 0 };
  if (last === "collections") return { collections: [] };
  if (last === "scroll") return { points: [], next_page_offset: null };
  if (last === "query") return { points: [] };
  return true;
}

describe("path segments the adapter sends", () => {
  let server: Server;
  /** The raw request target of every request received, as the client sent it. */
  const received: string[] = [];
  let qdrant: QdrantApi;
  before(async () => {
    server = createServer((req, res) => {
      received.push(`${req.method} ${req.url}`);
      const path = (req.url ?? "").replace(/\?.*$/, "");
      req.resume();
      if (req.method === "GET" && /\/snapshots\/[^/]+$/.test(path)) {
        res.writeHead(200, { "content-type": "application/octet-stream" }).end("bytes");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ result: resultFor(path), status: "ok", time: 0 }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    qdrant = new QdrantApi({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 10_000 });
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Every call of the adapter that puts a collection name in its path. */
  const byCollection: Array<[string, (c: string) => Promise<unknown>]> = [
    ["collectionExists", (c) => qdrant.collectionExists(c)],
    ["collectionInfo", (c) => qdrant.collectionInfo(c)],
    ["collectionConfig", (c) => qdrant.collectionConfig(c)],
    ["createCollection", (c) => qdrant.createCollection(c, { vectors: { size: 4, distance: "Cosine" } })],
    ["deleteCollection", (c) => qdrant.deleteCollection(c)],
    ["collectionCluster", (c) => qdrant.collectionCluster(c)],
    ["upsert", (c) => qdrant.upsert(c, [{ id: 1, vector: [1, 0, 0, 0] }])],
    ["scroll", (c) => qdrant.scroll(c, { limit: 1 })],
    ["count", (c) => qdrant.count(c)],
    ["query", (c) => qdrant.query(c, { query: [1, 0, 0, 0] })],
    ["createSnapshot", (c) => qdrant.createSnapshot({ collection: c })],
    ["deleteSnapshot", (c) => qdrant.deleteSnapshot({ collection: c }, "s.snapshot")],
    ["downloadSnapshot", (c) => qdrant.downloadSnapshot({ collection: c }, "s.snapshot")],
  ];

  const refused = (code: ErrorCode, name: string) => (err: unknown) => {
    assert.ok(isOperatorError(err, code), `expected ${code}, got ${String(err)}`);
    assert.ok(err.message.includes(JSON.stringify(name)), err.message);
    return true;
  };

  it("refuses `.`, `..` and an empty collection name with InvalidSpec, sending nothing", async () => {
    for (const name of ["..", ".", ""]) {
      for (const [call, run] of byCollection) {
        received.length = 0;
        await assert.rejects(run(name), refused("INVALID_SPEC", name), `${call}(${JSON.stringify(name)})`);
        assert.deepEqual(received, [], `${call}(${JSON.stringify(name)}) sent a request`);
      }
    }
  });

  it("refuses a `.` or `..` snapshot name (it comes from Qdrant's answer) as Qdrant's error, sending nothing", async () => {
    for (const scope of [{ collection: "c" }, { fullStorage: true as const }]) {
      for (const name of ["..", "."]) {
        received.length = 0;
        await assert.rejects(qdrant.deleteSnapshot(scope, name), refused("QDRANT_API_ERROR", name));
        await assert.rejects(qdrant.downloadSnapshot(scope, name), refused("QDRANT_API_ERROR", name));
        assert.deepEqual(received, []);
      }
    }
  });

  it("sends every other name as exactly one percent-encoded segment", async () => {
    for (const name of ["...", "%2e%2e", ".hidden", "a b", "é#x", "a.b"]) {
      received.length = 0;
      for (const [call, run] of byCollection) await run(name).then((r) => (r as { body?: { resume(): void } })?.body?.resume(), (err: unknown) => assert.fail(`${call}(${JSON.stringify(name)}): ${String(err)}`));
      assert.equal(received.length, byCollection.length, received.join("\n"));
      for (const line of received) {
        const segments = line.split(" ")[1]!.replace(/\?.*$/, "").split("/");
        assert.equal(segments[1], "collections", line);
        assert.equal(decodeURIComponent(segments[2]!), name, line);
        assert.ok(!segments.includes("..") && !segments.includes("."), line);
      }
    }
  });

  it("refuses, in the raw layer, any path a URL parser would resolve elsewhere", async () => {
    received.length = 0;
    for (const path of ["/collections/../snapshots", "/collections/./x", "/collections/%2e%2e/snapshots", "/collections/c/snapshots/.."]) {
      await assert.rejects(qdrantJson(qdrant.endpoint, "POST", path), (err: unknown) => isOperatorError(err, "INVALID_SPEC") && err.message.includes("would resolve to"), path);
    }
    assert.deepEqual(received, []);
  });
});
