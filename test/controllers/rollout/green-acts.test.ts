/**
 * What the controller does to green itself (src/controllers/rollout/green.ts), against the environment's
 * Qdrant: an abort never deletes green while an alias points at it (Qdrant would delete the alias with
 * it), and a restored green that carries an earlier rollout's stamp and copy record (a snapshot keeps its
 * collection's metadata) is stamped as ours, its copy record removed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Redactor } from "../../../src/runtime/redact.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";
import { deleteOurGreen, ownerOf, stampGreen } from "../../../src/controllers/rollout/green.ts";
import { COPY_METADATA, greenOwnerOf, OWNER_METADATA } from "../../../src/controllers/rollout/names.ts";
import type { RolloutObject } from "../../../src/controllers/rollout/types.ts";
import { qdrantApi, qdrantUnderTest, uniqueName } from "../../helpers/qdrant.ts";

const ctx = { redactor: new Redactor(), client: { request: () => Promise.reject(new Error("no Secret is read: the connection names none")) } } as unknown as OperatorContext;

function connection(): QdrantConnectionObject {
  const q = qdrantUnderTest();
  if (q.apiKey) throw new Error("this test's connection carries no API key; the environment's Qdrant needs none");
  return { apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantConnection", metadata: { namespace: "prod", name: "qdrant" }, spec: { url: q.url } };
}

function rollout(green: string, uid: string): RolloutObject {
  return { metadata: { namespace: "prod", name: "v2", uid }, spec: { connectionRef: { name: "qdrant" }, alias: `${green}_alias`, collection: green, source: { external: {} } } };
}

test("abort: our green is not deleted while an alias points at it; once none does, it is", async (t) => {
  const api = qdrantApi();
  const green = uniqueName("green_in_use");
  const r = rollout(green, "11111111-2222-3333-4444-555555555555");
  await api.createCollection(green, { vectors: { size: 4, distance: "Dot" }, metadata: { [OWNER_METADATA]: ownerOf(r) } });
  t.after(() => api.deleteCollection(green).then(() => undefined));
  const alias = `${green}_canary`;
  await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: green } }]);

  const refused = await deleteOurGreen(ctx, connection(), r);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, "GreenInUse");
  assert.match(!refused.ok ? refused.message : "", new RegExp(`alias ${alias} points at it`));
  assert.equal(await api.collectionExists(green), true, "green stays");
  assert.ok((await api.listAliases()).some((a) => a.alias === alias && a.collection === green), "and so does the alias");

  await api.updateAliases([{ delete_alias: { alias_name: alias } }]);
  assert.deepEqual(await deleteOurGreen(ctx, connection(), r), { ok: true, changed: true });
  assert.equal(await api.collectionExists(green), false);
});

test("fromBackup: a restored green carrying an earlier rollout's stamp and copy record is stamped ours, the record removed", async (t) => {
  const api = qdrantApi();
  const green = uniqueName("green_restored");
  const earlier = rollout(green, "99999999-8888-7777-6666-555555555555");
  const r = rollout(green, "11111111-2222-3333-4444-555555555555");
  // What a snapshot of a collection an earlier rollout built brings back with it.
  await api.createCollection(green, { vectors: { size: 4, distance: "Dot" }, metadata: { [OWNER_METADATA]: ownerOf(earlier), [COPY_METADATA]: { copied: 10, total: 10, done: true, attempt: 1 }, team: "search" } });
  t.after(() => api.deleteCollection(green).then(() => undefined));

  assert.deepEqual(await stampGreen(ctx, connection(), r), { ok: true, changed: true });
  const metadata = await api.collectionMetadata(green);
  assert.equal(greenOwnerOf(metadata)?.uid, r.metadata?.uid);
  assert.equal(metadata[COPY_METADATA], undefined, "the earlier copy's record is gone: it says nothing about this green");
  assert.equal(metadata.team, "search", "the user's own metadata stays");
  assert.deepEqual(await stampGreen(ctx, connection(), r), { ok: true, changed: false }, "repeating it changes nothing");
});
