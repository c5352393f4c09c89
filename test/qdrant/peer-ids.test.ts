/**
 * Qdrant's peer ids are u64s; beyond 2^53 a JS number loses digits, and a backup's files, markers and
 * manifest name peers by id. The emulator's ids stay below 2^53, so a stub answers the two cluster
 * routes with real-sized ids, and the adapter must hand them on as their exact decimal text.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { discoverTopology } from "../../src/qdrant/peers.ts";

const SELF = "18446744073709551557";
const OTHER = "9007199254740993";

const answers: Record<string, string> = {
  "/": `{"title":"qdrant - vector search engine","version":"1.19.0"}`,
  "/cluster": `{"result":{"status":"enabled","peer_id":${SELF},"peers":{"${SELF}":{"uri":"http://10.0.0.1:6335/"},"${OTHER}":{"uri":"http://10.0.0.2:6335/"}}},"status":"ok","time":0}`,
  "/collections/docs/cluster": `{"result":{"peer_id":${SELF},"shard_count":2,"local_shards":[{"shard_id":1,"points_count":5,"state":"Active"}],"remote_shards":[{"shard_id":0,"peer_id":${OTHER},"state":"Active"}]},"status":"ok","time":0}`,
};

describe("peer ids beyond 2^53", () => {
  let server: Server;
  let qdrant: QdrantApi;
  before(async () => {
    server = createServer((req, res) => {
      const body = answers[req.url ?? ""];
      res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" }).end(body ?? `{"status":{"error":"Not found"}}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    qdrant = new QdrantApi({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 5_000 });
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("keep their exact decimal text in /cluster, in /collections/{c}/cluster and in the topology", async () => {
    assert.equal((await qdrant.clusterStatus()).peer_id, SELF);
    assert.equal(await qdrant.peerId(), SELF);
    assert.deepEqual(await qdrant.collectionCluster("docs"), {
      peerId: SELF,
      localShards: [{ shardId: 1, pointsCount: 5, state: "Active" }],
      remoteShards: [{ shardId: 0, peerId: OTHER, state: "Active" }],
    });
    const topology = await discoverTopology(qdrant, { mode: "Cluster", restPort: 6333, scheme: "http" });
    assert.deepEqual(topology, {
      mode: "Distributed",
      version: "1.19.0",
      selfId: SELF,
      peers: [
        { id: OTHER, url: "http://10.0.0.2:6333" },
        { id: SELF, url: "http://10.0.0.1:6333" },
      ],
    });
  });
});
