/**
 * A periodic check writes a status only when it changes what the status says (src/controllers/shared/
 * check-time.ts): a fresh manager checks every QdrantConnection and QdrantBackupLocation at start, as a
 * recheck does, and when Qdrant and the bucket answer as recorded their objects keep their
 * resourceVersion and their lastCheckTime / lastValidationTime; the manager's heartbeat gauge says the
 * check ran. A check that finds something new (the connection's URL changed to one nothing answers)
 * writes it, with the new time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { condition, getJson, world, type Cond } from "./helpers/backup-world.ts";
import { managerMetrics } from "./helpers/restore-world.ts";

interface Checked {
  metadata: { resourceVersion: string };
  status?: { lastCheckTime?: string; lastValidationTime?: string; conditions?: Cond[] };
}

const gauge = (metrics: string, name: string, kind: string, ns: string, object: string): number | undefined => {
  const line = metrics.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(`kind="${kind}"`) && l.includes(`namespace="${ns}"`) && l.includes(`name="${object}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
};

test("a recheck that finds nothing new writes no status; the heartbeat gauge says it ran; a change is written with its time", async (t) => {
  const w = await world(t, "e2e-check-time");
  const ready = async (resource: string, name: string) =>
    eventually(`${resource}/${name} Ready`, async () => {
      const o = await getJson<Checked>(w.ns, resource, name);
      return o && condition(o, "Ready")?.status === "True" ? o : undefined;
    });
  const connection = await ready("qdrantconnection", "qdrant");
  const location = await ready("qdrantbackuplocation", "s3");
  assert.ok(connection.status?.lastCheckTime && location.status?.lastValidationTime, "the first check records its time");
  await w.manager.stop();

  // A later second than the recorded times (they are kept to the second), so a rewrite would show.
  const recorded = Math.max(Date.parse(connection.status.lastCheckTime), Date.parse(location.status.lastValidationTime));
  await eventually("a second past the recorded check times", () => Promise.resolve(Date.now() >= recorded + 1_500 ? true : undefined));
  // Before the start: the fresh manager checks both as its workers start, maybe before startManager returns.
  const start = Date.now() / 1000;
  const second = await startManager(t, [w.ns]);
  const metrics = await eventually("the fresh manager's checks of both", async () => {
    const m = await managerMetrics(second);
    const c = gauge(m, "qdrant_operator_check_timestamp_seconds", "QdrantConnection", w.ns, "qdrant");
    const l = gauge(m, "qdrant_operator_check_timestamp_seconds", "QdrantBackupLocation", w.ns, "s3");
    return c !== undefined && l !== undefined && c >= Math.floor(start) && l >= Math.floor(start) ? m : undefined;
  });
  assert.equal(gauge(metrics, "qdrant_operator_check_ready", "QdrantConnection", w.ns, "qdrant"), 1);
  assert.equal(gauge(metrics, "qdrant_operator_check_ready", "QdrantBackupLocation", w.ns, "s3"), 1);
  const connectionAfter = await getJson<Checked>(w.ns, "qdrantconnection", "qdrant");
  const locationAfter = await getJson<Checked>(w.ns, "qdrantbackuplocation", "s3");
  assert.equal(connectionAfter?.metadata.resourceVersion, connection.metadata.resourceVersion, "the connection's status was not rewritten");
  assert.equal(connectionAfter?.status?.lastCheckTime, connection.status?.lastCheckTime);
  assert.equal(locationAfter?.metadata.resourceVersion, location.metadata.resourceVersion, "the location's status was not rewritten");
  assert.equal(locationAfter?.status?.lastValidationTime, location.status?.lastValidationTime);

  // Something new: nothing answers at the connection's new URL. Written, with the time of that check.
  await kubectl(["patch", "-n", w.ns, "qdrantconnection", "qdrant", "--type=merge", "-p", JSON.stringify({ spec: { url: "http://127.0.0.1:9" } })]);
  const broken = await eventually("the connection Ready False", async () => {
    const o = await getJson<Checked>(w.ns, "qdrantconnection", "qdrant");
    return o && condition(o, "Ready")?.status === "False" ? o : undefined;
  });
  assert.ok(Date.parse(broken.status!.lastCheckTime!) > Date.parse(connection.status.lastCheckTime), `the new check's time: ${broken.status?.lastCheckTime}`);
  assert.equal(gauge(await managerMetrics(second), "qdrant_operator_check_ready", "QdrantConnection", w.ns, "qdrant"), 0);
});
