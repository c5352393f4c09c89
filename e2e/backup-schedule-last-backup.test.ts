/**
 * A schedule whose backups fail says so itself, end to end (the real manager, Job controller and node
 * agent): its tick's backup cannot reach Qdrant, and the schedule gets LastBackupSucceeded=False with
 * the backup's reason, name and words, and a Warning Event, while Ready stays about the schedule itself
 * (it keeps creating its backups at each tick).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { backupNameFor } from "../src/backup/schedule/backup-name.ts";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, getJson, world, type Cond } from "./helpers/backup-world.ts";

interface Schedule {
  metadata: { name: string; creationTimestamp: string };
  status?: { conditions?: Cond[]; nextScheduleTime?: string };
}
interface Event {
  type: string;
  reason: string;
  note: string;
  regarding: { kind: string; name: string };
  related?: { name: string };
}

/** The schedule's first tick comes this long after the manager starts (its clock is offset so). */
const LEAD_MS = 8_000;

test("every tick's backup fails: the schedule says LastBackupSucceeded=False with the backup's reason, Ready stays True", async (t) => {
  let tick = new Date(0);
  const w = await world(t, "e2e-qbs-lastbackup", {
    managerEnv: async (ns) => {
      await apply(ns, [
        // Nothing listens on port 1: every backup through this connection fails as QdrantUnreachable.
        { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "down" }, spec: { url: "http://127.0.0.1:1", peers: { mode: "None" } } },
        {
          apiVersion: API_VERSION,
          kind: "QdrantBackupSchedule",
          metadata: { name: "failing" },
          spec: { schedule: "*/1 * * * *", connectionRef: { name: "down" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, job: { backoffLimit: 0 } },
        },
      ]);
      const s = (await getJson<Schedule>(ns, "qdrantbackupschedule", "failing"))!;
      tick = new Date(Math.floor(Date.parse(s.metadata.creationTimestamp) / 60_000) * 60_000 + 60_000);
      return { [CLOCK_OFFSET_ENV]: String(tick.getTime() - Date.now() - LEAD_MS) };
    },
  });
  const name = backupNameFor("failing", tick);

  const s = await eventually("LastBackupSucceeded=False", async () => {
    const o = (await getJson<Schedule>(w.ns, "qdrantbackupschedule", "failing"))!;
    return o.status?.conditions?.find((c) => c.type === "LastBackupSucceeded" && c.status === "False") ? o : undefined;
  }, 120_000);
  const last = s.status!.conditions!.find((c) => c.type === "LastBackupSucceeded")!;
  assert.equal(last.reason, "QdrantUnreachable");
  assert.match(last.message, new RegExp(`^QdrantBackup ${name} failed: QdrantConnection down did not answer: `));
  const backup = (await getJson<{ status?: { failure?: { reason: string; message: string } } }>(w.ns, "qdrantbackup", name))!;
  assert.equal(last.message, `QdrantBackup ${name} failed: ${backup.status?.failure?.message}`, "the backup's own words");
  const ready = s.status!.conditions!.find((c) => c.type === "Ready")!;
  assert.deepEqual([ready.status, ready.reason], ["True", "Scheduled"], "Ready is about the schedule: it still creates its backups");
  assert.ok(Date.parse(s.status!.nextScheduleTime!) > tick.getTime());

  const warning = await eventually("the BackupFailed Warning", async () => {
    const out = JSON.parse((await kubectl(["get", "-n", w.ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Event[] };
    return out.items.find((e) => e.regarding.kind === "QdrantBackupSchedule" && e.regarding.name === "failing" && e.reason === "BackupFailed");
  });
  assert.equal(warning.type, "Warning");
  assert.equal(warning.note, `QdrantUnreachable: ${last.message}`);
  assert.equal(warning.related?.name, name);
});
