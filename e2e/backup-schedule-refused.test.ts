/**
 * A QdrantBackupSchedule whose backups the apiserver refuses, end to end (the real manager and
 * apiserver), after downtime (several ticks missed, so the catch-up would say MissedRuns): backupLabels
 * over 63 characters are found before any create; a refusal the schedule's checks cannot foresee (a
 * ValidatingAdmissionPolicy's 422) is quoted. Either way the schedule says InvalidSpec by name, Ready
 * says it cannot create its backups, there is no next tick in the past and no false "created one
 * catch-up backup"; nothing is retried until the spec changes, and then the catch-up runs.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../src/api/group.ts";
import { backupNameFor } from "../src/backup/schedule/backup-name.ts";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { useAdmissionPolicy } from "../test/helpers/admission-policy.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { eventually, useNamespace } from "../test/helpers/testenv.ts";

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface Schedule {
  metadata: { name: string; creationTimestamp: string; generation: number };
  status?: { conditions?: Cond[]; nextScheduleTime?: string; lastScheduleTime?: string };
}
interface Event {
  type: string;
  reason: string;
  note: string;
  regarding: { kind: string; name: string };
  series?: { count: number };
}

const apply = (ns: string, objects: object[]) => kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
const getSchedule = async (ns: string, name: string) => JSON.parse((await kubectl(["get", "-n", ns, "qdrantbackupschedule", name, "-o", "json"])).stdout) as Schedule;
const cond = (s: Schedule, type: string) => s.status?.conditions?.find((c) => c.type === type);
const backupNames = async (ns: string) => (JSON.parse((await kubectl(["get", "-n", ns, "qdrantbackups", "-o", "json"])).stdout) as { items: Array<{ metadata: { name: string } }> }).items.map((b) => b.metadata.name);
const eventsOf = async (ns: string, name: string): Promise<Event[]> =>
  (JSON.parse((await kubectl(["get", "-n", ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Event[] }).items.filter((e) => e.regarding.kind === "QdrantBackupSchedule" && e.regarding.name === name);
const schedule = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackupSchedule",
  metadata: { name },
  spec: { schedule: "*/1 * * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, ...spec },
});

/** The minute ticks after the schedule's creation that are due at the manager's clock (the last is the catch-up's). */
const MISSED_MINUTES = 5;
const firstTick = (s: Schedule) => Math.floor(Date.parse(s.metadata.creationTimestamp) / 60_000) * 60_000 + 60_000;

/** The manager, on a clock MISSED_MINUTES ticks past the schedule's first tick: it was "down" for them. */
async function managerAfterDowntime(t: TestContext, ns: string, s: Schedule) {
  const now = firstTick(s) + (MISSED_MINUTES - 1) * 60_000 + 5_000;
  return startManager(t, [ns], [], { env: { [CLOCK_OFFSET_ENV]: String(now - Date.now()) } });
}
const catchUpTick = (s: Schedule) => new Date(firstTick(s) + (MISSED_MINUTES - 1) * 60_000);

/** Accepted=False InvalidSpec at the schedule's current generation, and the Ready it came with. */
async function refused(ns: string, name: string): Promise<Schedule> {
  return eventually(`${name} Accepted=False InvalidSpec`, async () => {
    const s = await getSchedule(ns, name);
    const accepted = cond(s, "Accepted");
    return accepted?.status === "False" && accepted.reason === "InvalidSpec" && accepted.observedGeneration === s.metadata.generation ? s : undefined;
  }, 60_000);
}

test("backupLabels over 63 characters: InvalidSpec naming spec.backupLabels, no backup, no MissedRuns, no next tick", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-labels");
  await apply(ns, [schedule("long-labels", { backupLabels: { team: "x".repeat(64) } })]);
  const manager = await managerAfterDowntime(t, ns, await getSchedule(ns, "long-labels"));

  const s = await refused(ns, "long-labels");
  const message = 'spec.backupLabels["team"]: a label value must be no more than 63 characters (it has 64)';
  assert.equal(cond(s, "Accepted")?.message, message);
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason, cond(s, "Ready")?.message], ["False", "InvalidSpec", message]);
  assert.equal(s.status?.nextScheduleTime, undefined, "no next tick");
  const warning = await eventually("the InvalidSpec Warning", async () => (await eventsOf(ns, "long-labels")).find((e) => e.reason === "InvalidSpec"));
  assert.equal(warning.note, message);
  assert.deepEqual(await backupNames(ns), []);
  assert.deepEqual((await eventsOf(ns, "long-labels")).filter((e) => e.reason === "MissedRuns"), [], "no MissedRuns: nothing was created");
  assert.ok(!(await manager.log()).includes("Created QdrantBackup"));
});

test("a QdrantBackup the apiserver refuses (422): InvalidSpec quoting it, no false MissedRuns, no retry; fixing the spec runs the catch-up", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-qbs-refused");
  // A policy refusing this namespace's QdrantBackups that carry the label: a 422 with the policy's words.
  await useAdmissionPolicy(t, ns, {
    apiGroup: "qdrant-operator.dev",
    resource: "qdrantbackups",
    expression: "!has(object.metadata.labels) || !('refuse-me' in object.metadata.labels)",
    message: "backups labelled refuse-me are not allowed here",
    reason: "Invalid",
    probe: { apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name: "probe", labels: { "refuse-me": "please" } }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } } },
  });

  await apply(ns, [schedule("refused", { backupLabels: { "refuse-me": "please" } })]);
  const created = await getSchedule(ns, "refused");
  const manager = await managerAfterDowntime(t, ns, created);
  const tick = catchUpTick(created);
  const name = backupNameFor("refused", tick);

  const s = await refused(ns, "refused");
  const accepted = cond(s, "Accepted")!;
  assert.match(accepted.message, new RegExp(`denied request: backups labelled refuse-me are not allowed here \\(the apiserver refused QdrantBackup ${name}\\)$`));
  assert.deepEqual([cond(s, "Ready")?.status, cond(s, "Ready")?.reason], ["False", "InvalidSpec"]);
  assert.equal(cond(s, "Ready")?.message, `Cannot create its QdrantBackups: ${accepted.message}; fix the spec, and the next tick creates one.`);
  assert.equal(s.status?.nextScheduleTime, undefined, "no next tick (and none in the past)");
  assert.equal(s.status?.lastScheduleTime, undefined, "the refused tick is not recorded");
  const warning = await eventually("the InvalidSpec Warning", async () => (await eventsOf(ns, "refused")).find((e) => e.reason === "InvalidSpec"));
  assert.equal(warning.note, accepted.message);

  // Fixed: the new generation is tried again, and the catch-up backup for the latest tick is created.
  await kubectl(["patch", "-n", ns, "qdrantbackupschedule", "refused", "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/backupLabels" }])]);
  await eventually(`QdrantBackup ${name}`, async () => (await backupNames(ns)).includes(name) || undefined, 60_000);
  const fixed = await eventually("Accepted=True", async () => {
    const o = await getSchedule(ns, "refused");
    return cond(o, "Accepted")?.status === "True" ? o : undefined;
  });
  assert.equal(cond(fixed, "Ready")?.reason, "Scheduled");
  assert.ok(Date.parse(fixed.status!.nextScheduleTime!) > tick.getTime(), "the next tick is after the catch-up");
  const log = await manager.log();
  const refusals = log.split("\n").filter((l) => l.includes('"msg":"QdrantBackup refused as invalid"'));
  assert.equal(refusals.length, 1, "one create refused: not retried until the spec changed");
  // MissedRuns once, for the catch-up that was created, never for the refused one.
  const missed = await eventually("the MissedRuns Warning", async () => {
    const e = (await eventsOf(ns, "refused")).filter((x) => x.reason === "MissedRuns");
    return e.length > 0 ? e : undefined;
  });
  assert.equal(missed.length, 1);
  assert.equal(missed[0]!.series?.count ?? 1, 1, "said once");
  assert.match(missed[0]!.note, new RegExp(`created one catch-up backup for ${tick.toISOString()}$`));
});
