/**
 * A QdrantBackup whose Job the apiserver refuses (422), end to end (the real manager and apiserver): a
 * memory limit below its request and a pod label over 63 characters are found before the create; an
 * affinity the schema passes through but the apiserver refuses comes back as a 422. Each backup fails
 * as InvalidSpec naming our field (`spec.job.…`), with a Warning Event, and no Job create is retried.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { kubectl } from "../test/helpers/kubectl.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { apply, backupObj, condition, getBackup, getJson, waitForPhase, world } from "./helpers/backup-world.ts";

interface Event {
  type: string;
  reason: string;
  note: string;
  regarding: { name: string; kind: string };
  series?: { count: number };
}
const eventsOf = async (ns: string, name: string): Promise<Event[]> =>
  (JSON.parse((await kubectl(["get", "-n", ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Event[] }).items.filter((e) => e.regarding.kind === "QdrantBackup" && e.regarding.name === name);

/** Manager log lines (pino JSON) with this message about this Job. */
const logLines = (log: string, msg: string, job: string) => log.split("\n").filter((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"job":"${job}"`));

test("a Job the apiserver would refuse: the backup fails as InvalidSpec naming spec.job's field, once, and no create is retried", async (t) => {
  const w = await world(t, "e2e-backup-refused");
  const ns = w.ns;
  const long = "x".repeat(64);
  // An empty nodeSelectorTerms is the apiserver's to refuse (spec.job.affinity is opaque to our schema).
  const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
  await apply(ns, [
    backupObj("low-limit", { job: { resources: { limits: { memory: "64Mi" }, requests: { memory: "128Mi" } } } }),
    backupObj("long-label", { job: { podLabels: { team: long } } }),
    backupObj("bad-affinity", { job: { affinity } }),
  ]);
  const expected: Array<[name: string, message: RegExp, creates: number]> = [
    ["low-limit", /^spec\.job\.resources\.limits\.memory: the limit 64Mi is below the request 128Mi \(spec\.job\.resources\.requests\.memory\); a limit must be at least its request$/, 0],
    ["long-label", /^spec\.job\.podLabels\["team"\]: a label value must be no more than 63 characters \(it has 64\)$/, 0],
    ["bad-affinity", /^spec\.job\.affinity\.nodeAffinity\.requiredDuringSchedulingIgnoredDuringExecution\.nodeSelectorTerms: Required value: must have at least one node selector term \(the apiserver refused Job backup-bad-affinity\)$/, 1],
  ];
  for (const [name, message] of expected) {
    const b = await waitForPhase(ns, name, "Failed", 60_000);
    assert.equal(b.status?.failure?.reason, "InvalidSpec", name);
    assert.match(b.status.failure.message, message, name);
    for (const [type, status] of [["Accepted", "False"], ["Ready", "False"], ["Failed", "True"]] as const) {
      assert.deepEqual([condition(b, type)?.status, condition(b, type)?.reason, condition(b, type)?.message], [status, "InvalidSpec", b.status.failure.message], `${name} ${type}`);
    }
    assert.equal(await getJson(ns, "job", `backup-${name}`), undefined, `${name}: no Job`);
    const warning = await eventually(`${name}'s Warning Event`, async () => (await eventsOf(ns, name)).find((e) => e.type === "Warning" && e.reason === "Failed"));
    assert.equal(warning.note, `InvalidSpec: ${b.status.failure.message}`);
  }

  // Later work reaches the manager (a connection edit, which wakes its unfinished backups; a new backup
  // waiting for a missing connection); a retried create would show by then.
  await kubectl(["patch", "-n", ns, "qdrantconnection", "qdrant", "--type=merge", "-p", JSON.stringify({ spec: { timeoutSeconds: 31 } })]);
  await apply(ns, [backupObj("marker", { connectionRef: { name: "not-there" } })]);
  await eventually("the marker backup waiting for its connection", async () => condition(await getBackup(ns, "marker"), "Ready")?.reason === "ReferenceNotFound" || undefined);
  const log = await w.manager.log();
  for (const [name, , creates] of expected) {
    assert.equal(logLines(log, "Job refused as invalid", `backup-${name}`).length, creates, `${name}: Job creates refused`);
    assert.equal(logLines(log, "Created backup Job", `backup-${name}`).length, 0, `${name}: no Job created`);
    const b = await waitForPhase(ns, name, "Failed");
    assert.equal(b.status?.failure?.reason, "InvalidSpec", `${name} stays as it was`);
    assert.ok((await eventsOf(ns, name)).every((e) => (e.series?.count ?? 1) === 1), `${name}: each Event once`);
  }
  const failedReconciles = log.split("\n").filter((l) => l.includes("Reconciler error") && /low-limit|long-label|bad-affinity/.test(l));
  assert.deepEqual(failedReconciles, [], "no reconcile of theirs failed (and so none was retried)");
});
