/**
 * The collection status knob (collection-health.ts): a held collection reports Qdrant's own shapes —
 * `yellow`/`"ok"` while optimizing, `grey`/`"ok"` pending, `red`/`{error}` after an optimizer failure — on
 * every peer and through an alias, until released; a hold set before the collection exists applies once it
 * is created; other collections stay green. Every JSON answer goes through the validating proxy, so the
 * held shapes are checked against the OpenAPI spec too.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { AdminClient } from "./admin-client.ts";
import { REAL_QDRANT_URL, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("collection status knob (emulator admin API)", { skip: REAL_QDRANT_URL !== undefined ? "needs the emulator's admin API" : false }, () => {
  let target: TestTarget;
  let admin: AdminClient;
  before(async () => {
    target = await startTarget({ peers: 3 });
    if (target.admin === undefined) throw new Error("no admin API");
    admin = target.admin;
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function report(name: string, peer = 1): Promise<{ status: unknown; optimizer_status: unknown }> {
    const info = await target.client(peer).getCollection(name);
    return { status: info.status, optimizer_status: info.optimizer_status };
  }

  it("reports yellow with optimizer ok while held, on every peer and through an alias, green once released", async () => {
    const [name, other, alias] = [uniqueName("opt"), uniqueName("other"), uniqueName("alias")];
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    await client.createCollection(other, { vectors: { size: 2, distance: "Cosine" } });
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] });
    assert.deepEqual(await report(name), { status: "green", optimizer_status: "ok" });

    await admin.holdOptimizing(name);
    for (const peer of [1, 2, 3]) assert.deepEqual(await report(name, peer), { status: "yellow", optimizer_status: "ok" });
    assert.deepEqual(await report(alias), { status: "yellow", optimizer_status: "ok" });
    assert.deepEqual(await report(other), { status: "green", optimizer_status: "ok" });
    // Points are still served while "optimizing", as Qdrant serves them.
    await client.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 0] }] });
    assert.equal((await client.count(alias, { exact: true })).count, 1);

    assert.equal(await admin.releaseCollection(name), true);
    assert.deepEqual(await report(name), { status: "green", optimizer_status: "ok" });
    assert.equal(await admin.releaseCollection(name), false);
  });

  it("reports red with an optimizer error, and grey, in Qdrant's shapes", async () => {
    const name = uniqueName("opt");
    await target.client().createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    await admin.failOptimizer(name, "Service internal error: No space left on device");
    assert.deepEqual(await report(name, 2), { status: "red", optimizer_status: { error: "Service internal error: No space left on device" } });
    await admin.collectionStatus({ collection: name, status: "grey" });
    assert.deepEqual(await report(name), { status: "grey", optimizer_status: "ok" });
    await admin.collectionStatus({ collection: name, status: "green" });
    assert.deepEqual(await report(name), { status: "green", optimizer_status: "ok" });
  });

  it("applies a hold set before the collection exists, and keeps it across a re-create", async () => {
    const name = uniqueName("later");
    await admin.holdOptimizing(name);
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    assert.deepEqual(await report(name), { status: "yellow", optimizer_status: "ok" });
    await client.deleteCollection(name);
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    assert.deepEqual(await report(name), { status: "yellow", optimizer_status: "ok" });
    await admin.releaseCollection(name);
    assert.deepEqual(await report(name), { status: "green", optimizer_status: "ok" });
  });

  it("refuses malformed settings", async () => {
    await assert.rejects(admin.collectionStatus({ collection: "x", status: "blue" as "green" }), /status must be one of/);
    await assert.rejects(admin.collectionStatus({ collection: "x", status: "yellow", error: "boom" }), /only goes with status red/);
    await assert.rejects(admin.collectionStatus({ collection: "", status: "yellow" }), /non-empty/);
  });
});
