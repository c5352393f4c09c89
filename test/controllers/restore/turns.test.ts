/**
 * A restore takes its turn on its Qdrant with backups: created while a backup of the same Qdrant runs
 * (held inside its snapshot call by an emulator fault), it waits as WaitingForTurn naming that backup,
 * starts no Job meanwhile, and runs once the backup has finished.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { needsEmulatorFaults } from "../../helpers/qdrant.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { eventually } from "../../helpers/testenv.ts";
import { apply, condition, getObj, restoreWorld, waitFor } from "./restore-world.ts";

test("a restore waits for its turn behind a running backup of the same Qdrant, then runs", async (t) => {
  const { admin } = needsEmulatorFaults(t, "holds a backup inside its snapshot call");
  const w = await restoreWorld(t, "restore-turns");
  const target = `${w.collection}_turn`;
  t.after(() => w.api.deleteCollection(target).catch(() => undefined));
  const hold = await admin.delayNext({ method: "POST", path: `/collections/${w.collection}/snapshots` }, 8_000, 1);
  t.after(() => admin.removeFault(hold.id));

  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name: "b2" }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [w.collection] } } }]);
  await eventually("backup b2 inside its snapshot call", async () => ((await admin.faults()).some((f) => f.id === hold.id) ? undefined : true), 60_000);
  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantRestore", metadata: { name: "r" }, spec: { source: { backupRef: { name: "b1" } }, target: { connectionRef: { name: "qdrant" }, collection: target } } }]);

  const waiting = await waitFor(w.ns, "qdrantrestore", "r", "waiting for its turn", (o) => condition(o, "Ready")?.reason === "WaitingForTurn", 30_000);
  assert.equal(waiting.status?.phase, "Pending");
  assert.match(condition(waiting, "Ready")?.message ?? "", /^QdrantBackup b2 of the same QdrantConnection qdrant is ahead in line/);
  assert.equal((await getObj(w.ns, "qdrantbackup", "b2"))?.status?.phase, "Running", "the backup still runs while the restore waits");
  assert.equal((await kubectl(["get", "jobs", "-n", w.ns, "-l", "qdrant-operator.dev/restore", "-o", "name"])).stdout.trim(), "", "no restore Job meanwhile");

  const done = await waitFor(w.ns, "qdrantrestore", "r", "Succeeded", (o) => o.status?.phase === "Succeeded", 120_000);
  const b2 = await getObj(w.ns, "qdrantbackup", "b2");
  assert.equal(b2?.status?.phase, "Succeeded");
  assert.ok(Date.parse(done.status?.startTime ?? "") >= Date.parse(b2?.status?.completionTime ?? ""), `the restore started (${done.status?.startTime}) after the backup ended (${b2?.status?.completionTime})`);
});
