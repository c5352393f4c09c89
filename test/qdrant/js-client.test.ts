/**
 * Where the js-client calls go: the adapter hands @qdrant/js-client-rest a URL, a prefix and a port of
 * its own making, and that client has defaults of its own (port 6333, no path). An undici MockAgent as
 * the endpoint's dispatcher sees every request, so the origin and path of each call can be checked for
 * URLs no test server could listen on (https on 443, a path behind an ingress).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MockAgent } from "undici";
import { QdrantApi } from "../../src/qdrant/client.ts";

function mocked(origin: string, path: string, result: unknown): MockAgent {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agent.get(origin).intercept({ path, method: "GET" }).reply(200, { result, status: "ok", time: 0 }, { headers: { "content-type": "application/json" } });
  return agent;
}

describe("js-client calls of the adapter", () => {
  for (const [url, origin, path] of [
    ["https://qdrant.example.com", "https://qdrant.example.com", "/collections"],
    ["http://qdrant.example.com/", "http://qdrant.example.com", "/collections"],
    ["https://gateway.example.com/teams/search/qdrant", "https://gateway.example.com", "/teams/search/qdrant/collections"],
    ["http://10.0.0.7:6334", "http://10.0.0.7:6334", "/collections"],
  ] as const) {
    it(`go to ${origin}${path} for ${url}`, async () => {
      const agent = mocked(origin, path, { collections: [{ name: "docs" }] });
      try {
        assert.deepEqual(await new QdrantApi({ url, timeoutMs: 5_000, dispatcher: agent }).listCollections(), ["docs"]);
        agent.assertNoPendingInterceptors();
      } finally {
        await agent.close();
      }
    });
  }
});
