import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import { accessFor, type KubeAccess } from "../../src/runtime/kube-access.ts";
import { KubeConfigFallbackAccess } from "../../src/runtime/kube-access-fallback.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import type { ResourceType } from "../../src/runtime/resource.ts";

const WIDGETS: ResourceType = { group: "example.com", version: "v1", plural: "widgets", kind: "Widget", namespaced: true };

/**
 * Each access hands out one connection pool. The client library builds a new one for each request when
 * the kubeconfig has a TLS setting, so its fallback keeps the first. insecure-skip-tls-verify is such a
 * setting, and lets a plain HTTP server stand in for the apiserver.
 */
for (const [name, make] of [
  [
    "own loader",
    (server: string): KubeAccess =>
      accessFor({ source: "test", clusters: [{ name: "c", server, insecureSkipTlsVerify: true }], users: [{ name: "u", token: "t" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" }),
  ],
  [
    "client-node fallback",
    (server: string): KubeAccess => {
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: "c", server, skipTLSVerify: true }], users: [{ name: "u", token: "t" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
      return new KubeConfigFallbackAccess(kc);
    },
  ],
] as const) {
  test(`a RestClient (${name}) reuses its connections: 20 requests one after the other over at most two sockets, 10 at once over at most 10 more`, async (t) => {
    let connections = 0;
    let requests = 0;
    const server = createServer((req, res) => {
      requests++;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ metadata: { name: "w", namespace: "ns", resourceVersion: String(requests) } }));
    });
    server.on("connection", () => connections++);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const client = new RestClient(make(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
    for (let i = 0; i < 20; i++) await client.get(WIDGETS, { namespace: "ns", name: "w" });
    assert.equal(requests, 20);
    // undici may open a second socket while the first is being handed back to its pool: two at most.
    assert.ok(connections <= 2, `${connections} sockets for 20 sequential requests (one each without a shared pool)`);
    await Promise.all(Array.from({ length: 10 }, () => client.get(WIDGETS, { namespace: "ns", name: "w" })));
    assert.ok(connections <= 12, `${connections} sockets after 10 concurrent requests`);
    for (let i = 0; i < 10; i++) await client.get(WIDGETS, { namespace: "ns", name: "w" });
    assert.ok(connections <= 12, `${connections} sockets: the concurrent ones are reused too`);
    server.closeAllConnections();
  });
}
