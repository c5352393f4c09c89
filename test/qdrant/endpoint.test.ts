/** The pure half of a QdrantConnection's resolution (src/qdrant/endpoint.ts): what the manager and a Job's plan both use. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { QdrantConnectionSpec } from "../../src/api/v1alpha1/qdrant-connection.ts";
import { callTimeoutSeconds, connectionUrl, needsPortLookup, peerDiscovery, resolveConnection, tlsOptions } from "../../src/qdrant/endpoint.ts";

describe("connectionUrl", () => {
  const cases: Array<[string, QdrantConnectionSpec, number | undefined, string]> = [
    ["a URL loses its trailing slash", { url: "http://q:6333/" }, undefined, "http://q:6333"],
    ["a Service in the connection's namespace, default port", { service: { name: "qdrant" } }, undefined, "http://qdrant.prod.svc:6333"],
    ["a Service elsewhere with a numeric port, TLS", { service: { name: "qdrant", namespace: "db", port: 6334 }, tls: {} }, undefined, "https://qdrant.db.svc:6334"],
    ["a numeric port written as a string", { service: { name: "qdrant", port: "6333" } }, undefined, "http://qdrant.prod.svc:6333"],
    ["a named port resolved by the caller", { service: { name: "qdrant", port: "http" } }, 8080, "http://qdrant.prod.svc:8080"],
  ];
  for (const [what, spec, port, want] of cases) test(what, () => assert.equal(connectionUrl(spec, "prod", port), want));

  test("a named port must be resolved first", () => {
    assert.equal(needsPortLookup({ service: { name: "qdrant", port: "http" } }), true);
    assert.equal(needsPortLookup({ service: { name: "qdrant", port: "6333" } }), false);
    assert.equal(needsPortLookup({ url: "http://q:6333", service: { name: "qdrant", port: "http" } }), false);
    assert.throws(() => connectionUrl({ service: { name: "qdrant", port: "http" } }, "prod"), /resolve it first/);
  });
});

describe("defaults", () => {
  test("peer discovery: Cluster on 6333 in the connection's scheme, unless the spec says otherwise", () => {
    assert.deepEqual(peerDiscovery({ url: "http://q:6333" }), { mode: "Cluster", restPort: 6333, scheme: "http" });
    assert.deepEqual(peerDiscovery({ url: "https://q:6333" }), { mode: "Cluster", restPort: 6333, scheme: "https" });
    assert.deepEqual(peerDiscovery({ service: { name: "q" }, tls: {} }), { mode: "Cluster", restPort: 6333, scheme: "https" });
    assert.deepEqual(peerDiscovery({ url: "https://q:6333", peers: { mode: "Static", urls: ["http://a:1", "http://b:1"], scheme: "http", restPort: 7000 } }), { mode: "Static", restPort: 7000, scheme: "http", urls: ["http://a:1", "http://b:1"] });
  });

  test("timeout 30 s; TLS options only what is set", () => {
    assert.equal(callTimeoutSeconds({ url: "http://q" }), 30);
    assert.equal(callTimeoutSeconds({ url: "http://q", timeoutSeconds: 5 }), 5);
    assert.equal(tlsOptions({ url: "https://q" }), undefined);
    assert.equal(tlsOptions({ url: "https://q", tls: { caSecretRef: { name: "ca", key: "ca.crt" } } }), undefined);
    assert.deepEqual(tlsOptions({ url: "https://q", tls: { serverName: "q.internal", insecureSkipVerify: true } }), { serverName: "q.internal", insecureSkipVerify: true });
  });
});

test("resolveConnection reads the key and the CA, looks up a named port, and names the fields it read", async () => {
  const fields: string[] = [];
  const resolved = await resolveConnection(
    { service: { name: "qdrant", port: "rest" }, apiKeySecretRef: { name: "k", key: "api-key" }, tls: { caSecretRef: { name: "ca", key: "ca.crt" } }, timeoutSeconds: 7 },
    "prod",
    (ref, field) => {
      fields.push(field);
      return Promise.resolve(`${ref.name}/${ref.key}`);
    },
    (ns, svc, port) => Promise.resolve(ns === "prod" && svc === "qdrant" && port === "rest" ? 16333 : assert.fail(`${ns}/${svc}:${port}`)),
  );
  assert.equal(resolved.endpoint.url, "https://qdrant.prod.svc:16333");
  assert.equal(resolved.endpoint.apiKey, "k/api-key");
  assert.equal(resolved.endpoint.timeoutMs, 7000);
  assert.ok(resolved.endpoint.dispatcher);
  assert.deepEqual(fields, ["spec.apiKeySecretRef", "spec.tls.caSecretRef"]);
});

test("resolving a TLS connection again reuses its connection pool; another CA gets its own", async () => {
  const spec = (ca: string) => ({ url: "https://q:6333", tls: { caSecretRef: { name: ca, key: "ca.crt" } } });
  const resolve = (ca: string) => resolveConnection(spec(ca), "prod", (ref) => Promise.resolve(`pem of ${ref.name}`), () => Promise.reject(new Error("no Service")));
  const first = await resolve("ca-1");
  const again = await resolve("ca-1");
  const other = await resolve("ca-2");
  assert.ok(first.endpoint.dispatcher);
  assert.equal(again.endpoint.dispatcher, first.endpoint.dispatcher, "one pool per TLS setting, not one per reconcile");
  assert.notEqual(other.endpoint.dispatcher, first.endpoint.dispatcher);
});
