import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, errorText, raw, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("service endpoints", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  it("GET / answers the unwrapped version info the js client checks", async () => {
    const info = await target.client().versionInfo();
    assert.equal(info.title, "qdrant - vector search engine");
    assert.equal(info.version, "1.19.0");
    assert.match(info.commit ?? "", /^[0-9a-f]{40}$/);
  });

  it("health probes answer plain text", async () => {
    const probes: Array<[string, string]> = [["/healthz", "healthz check passed"], ["/livez", "healthz check passed"], ["/readyz", "all shards are ready"]];
    for (const [path, text] of probes) {
      const r = await raw(`${target.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.text, text);
      assert.match(r.contentType ?? "", /^text\/plain/);
    }
  });

  it("GET /cluster says disabled in standalone mode", async () => {
    const r = await raw(`${target.url}/cluster`);
    assert.deepEqual((r.json as { result: unknown }).result, { status: "disabled" });
    const recover = await raw(`${target.url}/cluster/recover`, { method: "POST" });
    assert.equal(recover.status, 405);
    assert.equal(errorText(recover), "Qdrant is running in standalone mode");
  });

  it("/metrics uses Qdrant's metric names and counts collections and snapshots", async () => {
    const name = uniqueName("metrics");
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    await client.upsert(name, { points: [{ id: 1, vector: [1, 2] }] });
    await client.createSnapshot(name);
    const r = await raw(`${target.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.text, /^app_info\{name="qdrant",version="1\.19\.0"\} 1$/m);
    assert.ok(Number(/^collections_total (\d+)$/m.exec(r.text)?.[1]) >= 1);
    assert.match(r.text, /^cluster_enabled 0$/m);
    assert.match(r.text, new RegExp(`^collection_points\\{collection="${name}"\\} 1$`, "m"));
    assert.match(r.text, new RegExp(`^snapshot_created_total\\{id="${name}"\\} 1$`, "m"));
    assert.match(r.text, new RegExp(`^snapshot_creation_running\\{id="${name}"\\} 0$`, "m"));
    assert.match(r.text, /^rest_responses_total\{method="PUT",endpoint="\/collections\/\{collection_name\}",status="200"\} [1-9]\d*$/m);
    await client.deleteCollection(name);
  });

  it("/telemetry returns a minimal TelemetryData", async () => {
    const r = await raw(`${target.url}/telemetry`);
    const t = (r.json as { result: { app: { version: string }; collections: { number_of_collections: number } } }).result;
    assert.equal(t.app.version, "1.19.0");
    assert.equal(typeof t.collections.number_of_collections, "number");
  });

  it("unknown paths are an empty 404", async () => {
    const r = await raw(`${target.url}/nope`);
    assert.equal(r.status, 404);
    assert.equal(r.text, "");
  });

  it("the js client surfaces Qdrant's errors", async () => {
    const e = await clientError(target.client().getCollection("missing-collection"));
    assert.equal(e.status, 404);
    assert.equal(e.error, "Not found: Collection `missing-collection` doesn't exist!");
  });
});

describe("api-key authentication", () => {
  const key = "rw-secret";
  const roKey = "ro-secret";
  let target: TestTarget;
  before(async () => {
    target = await startTarget({ apiKey: key, readOnlyApiKey: roKey });
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  it("leaves /, /healthz, /livez and /readyz open", async () => {
    for (const path of ["/", "/healthz", "/livez", "/readyz"]) assert.equal((await raw(`${target.url}${path}`)).status, 200, path);
  });

  it("refuses a missing key and a wrong key with Qdrant's plain-text 401s", async () => {
    for (const path of ["/collections", "/metrics", "/telemetry", "/cluster"]) {
      const none = await raw(`${target.url}${path}`);
      assert.equal(none.status, 401, path);
      assert.equal(none.text, "Must provide an API key or an Authorization bearer token");
    }
    const wrong = await raw(`${target.url}/collections`, { apiKey: "nope" });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, "Invalid API key or JWT");
  });

  it("accepts the key as api-key or as a Bearer token", async () => {
    assert.equal((await raw(`${target.url}/collections`, { apiKey: key })).status, 200);
    assert.equal((await raw(`${target.url}/collections`, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  });

  it("lets a read-only key read but answers writes with a JSON 403", async () => {
    const name = uniqueName("ro");
    await target.client().createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    const ro = target.client(1, roKey);
    assert.equal((await ro.getCollection(name)).points_count, 0);
    const denied = await clientError(ro.createCollection(uniqueName("x"), { vectors: { size: 2, distance: "Cosine" } }));
    assert.equal(denied.status, 403);
    assert.equal(denied.error, "Forbidden: Global manage access is required");
    const upsert = await clientError(ro.upsert(name, { points: [{ id: 1, vector: [1, 1] }] }));
    assert.equal(upsert.status, 403);
    const snap = await raw(`${target.url}/collections/${name}/snapshots`, { method: "POST", apiKey: roKey });
    assert.equal(snap.status, 403);
    assert.equal(errorText(snap), "Forbidden: Global manage access is required");
  });
});
