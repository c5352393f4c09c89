import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addressNames, qdrantNames } from "../../../src/controllers/shared/turns/qdrant-identity.ts";

describe("qdrant identity", () => {
  const rows: Array<[string, string[]]> = [
    ["http://qdrant.qdrant.svc:6333", ["service:qdrant/qdrant"]],
    ["https://Qdrant.Qdrant.svc.cluster.local.:6334/", ["service:qdrant/qdrant"]],
    ["http://qdrant.qdrant.svc.example.internal", ["service:qdrant/qdrant"]],
    ["http://qdrant-0.qdrant-headless.db.svc.cluster.local:6333", ["address:qdrant-0.qdrant-headless.db.svc:6333"]],
    ["http://127.0.0.1:6333/some/path", ["address:127.0.0.1:6333"]],
    ["https://qdrant.example.com", ["address:qdrant.example.com:443"]],
    ["http://qdrant.example.com", ["address:qdrant.example.com:80"]],
    ["http://[::1]:6333", ["address:[::1]:6333"]],
    ["not a url", []],
    ["http://qdrant:6333", ["service:team-a/qdrant"]],
    ["http://qdrant.db:6333", ["address:qdrant.db:6333", "service:db/qdrant"]],
    ["http://10.0.0.5:6333", ["address:10.0.0.5:6333"]],
    ["http://localhost:6333", ["address:localhost:6333"]],
  ];
  for (const [url, want] of rows) test(`addressNames(${url}) in namespace team-a`, () => assert.deepEqual(addressNames(url, "team-a"), want));

  test("a one-label host is the Service in the connection's own namespace: the same URL in two namespaces is two Qdrants", () => {
    assert.notDeepEqual(qdrantNames("team-a", { url: "http://qdrant:6333" }), qdrantNames("team-b", { url: "http://qdrant:6333" }));
    assert.deepEqual(qdrantNames("team-a", { url: "http://qdrant:6333" }), qdrantNames("team-a", { service: { name: "qdrant" } }));
  });

  test("a two-label host names the Service <name>.<namespace> too, so it meets a Service reference to it", () => {
    const viaUrl = qdrantNames("team-b", { url: "http://qdrant.team-a:6333" });
    const viaService = qdrantNames("team-a", { service: { name: "qdrant" } });
    assert.ok(viaService.every((n) => viaUrl.includes(n)), `${viaUrl.join(", ")} shares ${viaService.join(", ")}`);
  });

  test("a Service reference and the Service's URL are one name, whatever the port or namespace it is written from", () => {
    const viaService = qdrantNames("team-a", { service: { name: "qdrant", namespace: "db", port: "rest" } });
    const viaUrl = qdrantNames("team-b", { url: "http://qdrant.db.svc.cluster.local:6333" });
    assert.deepEqual(viaService, ["service:db/qdrant"]);
    assert.deepEqual(viaUrl, viaService);
    assert.deepEqual(qdrantNames("db", { service: { name: "qdrant" } }), ["service:db/qdrant"], "the Service's namespace defaults to the connection's");
  });

  test("a check's peers add peer ids (cluster mode only) and peer addresses", () => {
    const status = { peers: [{ id: "8812733361823478712", url: "http://10.0.0.5:6333" }, { id: "140737488355328", url: "http://10.0.0.6:6333" }] };
    assert.deepEqual(qdrantNames("ns", { url: "https://qdrant.example.com" }, status), [
      "address:10.0.0.5:6333",
      "address:10.0.0.6:6333",
      "address:qdrant.example.com:443",
      "peer:140737488355328",
      "peer:8812733361823478712",
    ]);
    assert.deepEqual(qdrantNames("ns", { url: "http://127.0.0.1:6333" }, { peers: [{ id: "standalone", url: "http://127.0.0.1:6333" }] }), ["address:127.0.0.1:6333"]);
    assert.deepEqual(qdrantNames("ns", { url: "http://a:6333" }, { peers: [{ id: "static-0", url: "http://b:6333" }] }), ["service:ns/a", "service:ns/b"]);
  });
});
