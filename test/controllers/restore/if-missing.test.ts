/**
 * An IfMissing restore in the real manager: its target is missing, so it restores it (from the bucket,
 * by `latest`) and points its alias at it; the collection is deleted, and the next check restores it
 * again, counting; between, it watches. Qdrant, MinIO and the apiserver are the environment's.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { allPoints } from "../../helpers/qdrant.ts";
import { apply, condition, events, restoreWorld, waitFor } from "./restore-world.ts";

test("IfMissing: restores a missing collection, points the alias at it, and restores it again each time it goes", async (t) => {
  const w = await restoreWorld(t, "restore-if-missing");
  const copy = `${w.collection}_copy`;
  const alias = `${w.collection}_live`;
  t.after(async () => {
    await w.api.updateAliases([{ delete_alias: { alias_name: alias } }]).catch(() => undefined);
    await w.api.deleteCollection(copy).catch(() => undefined);
  });
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantRestore",
      metadata: { name: "heal" },
      spec: {
        policy: "IfMissing",
        checkIntervalSeconds: 10,
        source: { latest: { locationRef: { name: "s3" }, collection: w.collection } },
        target: { connectionRef: { name: "qdrant" }, collection: copy, alias },
      },
    },
  ]);
  const first = await waitFor(w.ns, "qdrantrestore", "heal", "restored once", (o) => o.status?.phase === "Watching" && o.status.restoreCount === 1);
  assert.equal(first.status?.backupId, w.backupId);
  assert.equal(first.status?.targetCollection, copy);
  assert.deepEqual(first.status?.pointsCount, { expected: 20, actual: 20 });
  // Restored, or already Watching when the next 10 s check came before this look.
  assert.equal(condition(first, "Ready")?.status, "True");
  assert.match(condition(first, "Ready")?.reason ?? "", /^(Restored|Watching)$/);
  assert.deepEqual(await allPoints(copy), await allPoints(w.collection));
  assert.deepEqual((await w.api.listAliases()).filter((a) => a.alias === alias), [{ alias, collection: copy }]);
  const said = await events(w.ns, "heal");
  assert.match(said, /AliasSwitched: Alias .* now points at the restored collection/);
  assert.match(said, new RegExp(`Restored: Restored backup ${w.backupId} into collection ${copy} \\(20 points\\)`));

  // Gone again: back again at the next check, as a second Job.
  await w.api.deleteCollection(copy);
  const second = await waitFor(w.ns, "qdrantrestore", "heal", "restored twice", (o) => o.status?.phase === "Watching" && o.status.restoreCount === 2);
  assert.equal(second.status?.jobName, "restore-heal-2");
  assert.deepEqual(await allPoints(copy), await allPoints(w.collection));
  assert.ok(Date.parse(second.status?.lastRestoreTime ?? "") > Date.parse(first.status?.lastRestoreTime ?? ""));
  // Present: watched, not restored (Ready says so once the next check found it).
  const watching = await waitFor(w.ns, "qdrantrestore", "heal", "watching", (o) => condition(o, "Ready")?.reason === "Watching", 60_000);
  assert.equal(watching.status?.restoreCount, 2);
  assert.match(condition(watching, "Ready")?.message ?? "", new RegExp(`^Collection ${copy} exists; it is restored whenever it is missing`));
});
