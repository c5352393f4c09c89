import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, errorText, raw, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("collections", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  it("creates with defaults and echoes the caller's settings", async () => {
    const name = uniqueName("cfg");
    const client = target.client();
    assert.equal(
      await client.createCollection(name, {
        vectors: { size: 4, distance: "Euclid" },
        on_disk_payload: false,
        hnsw_config: { m: 32 },
        optimizers_config: { indexing_threshold: 0 },
        quantization_config: { scalar: { type: "int8", always_ram: true } },
        metadata: { owner: "tests" },
      }),
      true,
    );
    const info = await client.getCollection(name);
    assert.equal(info.status, "green");
    assert.equal(info.points_count, 0);
    assert.deepEqual(info.config.params.vectors, { size: 4, distance: "Euclid" });
    assert.equal(info.config.params.shard_number, 1);
    assert.equal(info.config.params.replication_factor, 1);
    assert.equal(info.config.params.on_disk_payload, false);
    assert.equal(info.config.hnsw_config.m, 32);
    assert.equal(info.config.hnsw_config.ef_construct, 100);
    assert.equal(info.config.optimizer_config.indexing_threshold, 0);
    assert.deepEqual(info.config.quantization_config, { scalar: { type: "int8", always_ram: true } });
    assert.deepEqual(info.config.metadata, { owner: "tests" });
  });

  it("supports named vectors", async () => {
    const name = uniqueName("named");
    const client = target.client();
    await client.createCollection(name, { vectors: { image: { size: 2, distance: "Dot" }, text: { size: 3, distance: "Cosine" } } });
    const info = await client.getCollection(name);
    assert.deepEqual(info.config.params.vectors, { image: { size: 2, distance: "Dot" }, text: { size: 3, distance: "Cosine" } });
  });

  it("refuses a duplicate with 409 and a bad name with 422", async () => {
    const name = uniqueName("dup");
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    const dup = await clientError(client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } }));
    assert.equal(dup.status, 409);
    assert.equal(dup.error, `Wrong input: Collection \`${name}\` already exists!`);
    const bad = await raw(`${target.url}/collections/a%3Ab`, { method: "PUT", body: JSON.stringify({ vectors: { size: 2, distance: "Cosine" } }) });
    assert.equal(bad.status, 422);
    assert.equal(errorText(bad), 'Validation error in path parameters: [collection_name: collection name cannot contain ":" char]');
    const zero = await raw(`${target.url}/collections/${uniqueName("zero")}`, { method: "PUT", body: JSON.stringify({ vectors: { size: 0, distance: "Cosine" } }) });
    assert.equal(zero.status, 422);
    const distance = await raw(`${target.url}/collections/${uniqueName("dist")}`, { method: "PUT", body: JSON.stringify({ vectors: { size: 2, distance: "Cos" } }) });
    assert.equal(distance.status, 400);
    assert.match(errorText(distance) ?? "", /^Format error in JSON body: /);
  });

  it("lists sorted names, answers exists, and deletes (false when missing)", async () => {
    const client = target.client();
    const names = [uniqueName("zz"), uniqueName("aa")];
    for (const n of names) await client.createCollection(n, { vectors: { size: 2, distance: "Cosine" } });
    const listed = (await client.getCollections()).collections.map((c) => c.name);
    assert.deepEqual(listed, [...listed].sort());
    for (const n of names) assert.ok(listed.includes(n));
    assert.deepEqual(await client.collectionExists(names[0] ?? ""), { exists: true });
    assert.equal(await client.deleteCollection(names[0] ?? ""), true);
    assert.deepEqual(await client.collectionExists(names[0] ?? ""), { exists: false });
    assert.equal(await client.deleteCollection(names[0] ?? ""), false);
  });

  it("updates with PATCH", async () => {
    const name = uniqueName("patch");
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" }, metadata: { a: 1, b: 2 } });
    assert.equal(
      await client.updateCollection(name, { optimizers_config: { indexing_threshold: 500 }, params: { replication_factor: 2 }, metadata: { b: null, c: 3 } }),
      true,
    );
    const info = await client.getCollection(name);
    assert.equal(info.config.optimizer_config.indexing_threshold, 500);
    assert.equal(info.config.params.replication_factor, 2);
    assert.deepEqual(info.config.metadata, { a: 1, c: 3 });
  });

  it("reports payload indexes in payload_schema", async () => {
    const name = uniqueName("index");
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    await client.upsert(name, { points: [{ id: 1, vector: [1, 0], payload: { city: "Paris" } }, { id: 2, vector: [0, 1] }] });
    await client.createPayloadIndex(name, { field_name: "city", field_schema: "keyword", wait: true });
    const info = await client.getCollection(name);
    assert.deepEqual(info.payload_schema.city, { data_type: "keyword", points: 1 });
  });
});
