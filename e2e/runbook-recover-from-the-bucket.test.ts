/**
 * docs/runbooks/recover-from-the-bucket.md, run block by block: two collections (one behind an alias) are
 * backed up twice into a bucket, the second time with one more point; then a fresh namespace with a
 * manager of its own and an empty Qdrant of its own (a second emulator: "the new cluster") gets a
 * read-only location on that bucket, and the runbook lists the bucket with `kubectl qdrant backups list
 * --from-bucket`, restores the newest backup of each collection under its old name with its alias, and
 * waits for them. The new Qdrant then holds both collections with the points of the newer backup.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { startEmulator } from "../test/emulator/index.ts";
import { needsEmulatorFaults, useCollection } from "../test/helpers/qdrant.ts";
import { startManager } from "../test/helpers/manager.ts";
import { testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { allPoints, world } from "./helpers/backup-world.ts";
import { aliases, backedUp, collectionNames, createAlias, qdrantCall } from "./helpers/restore-world.ts";
import { openRunbook } from "./helpers/runbook.ts";

test("runbook: recover a whole Qdrant from the bucket into an empty cluster, every command as written", async (t) => {
  needsEmulatorFaults(t, "the new, empty Qdrant is a second emulator");
  const w = await world(t, "rb-recover");
  const second = await useCollection(t, "contracts");
  const alias = `${w.collection}_production`;
  await createAlias(w.qdrant.url, alias, w.collection, w.apiKey);
  t.after(() => qdrantCall(w.qdrant.url, "/collections/aliases", w.apiKey, { method: "POST", body: { actions: [{ delete_alias: { alias_name: alias } }] } }).catch(() => undefined));
  await backedUp(w, "older", { collections: { names: [w.collection, second] } });
  await qdrantCall(w.qdrant.url, `/collections/${w.collection}/points?wait=true`, w.apiKey, { method: "PUT", body: { points: [{ id: 99, vector: [0.5, 0.5, 0.5, 0.5], payload: { n: 99 } }] } });
  await backedUp(w, "newer", { collections: { names: [w.collection, second] } });
  const expected = { [w.collection]: await allPoints(w.qdrant.url, w.collection, w.apiKey), [second]: await allPoints(w.qdrant.url, second, w.apiKey) };
  assert.equal(expected[w.collection]!.length, 21);

  // The new cluster: an empty Qdrant, a namespace and a manager of its own.
  const apiKey = `qk-${randomBytes(12).toString("hex")}`;
  const fresh = await startEmulator({ apiKey });
  t.after(() => fresh.stop());
  const ns = await useNamespace(t, "rb-recovered");
  await startManager(t, [ns]);
  const rb = await openRunbook(t, "recover-from-the-bucket", {
    NS: ns,
    QDRANT_URL: fresh.url,
    QDRANT_API_KEY: apiKey,
    BUCKET: w.bucket,
    PREFIX: "qdrant/e2e",
    S3_ENDPOINT: testEnv().s3.endpoint,
    S3_REGION: testEnv().s3.region,
    AWS_ACCESS_KEY_ID: w.s3AccessKeyId,
    AWS_SECRET_ACCESS_KEY: w.s3SecretKey,
  });
  await rb.next(); // variables
  await rb.next(); // connection + read-only location, both Ready
  const listed = await rb.next();
  for (const c of [w.collection, second]) assert.ok(listed.stdout.includes(c), `the bucket's list names ${c}:\n${listed.stdout}`);
  await rb.next(); // one restore per collection
  const waited = await rb.next();
  assert.match(waited.stdout, new RegExp(`${alias}`), "the alias is back");
  assert.deepEqual((await collectionNames(fresh.url, apiKey)).sort(), [w.collection, second].sort(), "the new Qdrant holds exactly the two collections");
  for (const c of [w.collection, second]) assert.deepEqual(await allPoints(fresh.url, c, apiKey), expected[c], `${c} holds the newer backup's points`);
  assert.equal((await aliases(fresh.url, apiKey)).find((a) => a.alias_name === alias)?.collection_name, w.collection);
  assert.ok(rb.done());
});
