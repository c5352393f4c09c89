/**
 * Each command of `kubectl qdrant`, run through the real kubectl against the real apiserver, once as
 * meant and once wrong. No manager: the controllers' results are written to the status subresource, as
 * a controller would write them, so the plugin reads what it would read in a real cluster.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../../src/api/group.ts";
import { SCHEDULE_LABEL } from "../../src/api/labels.ts";
import { apply, getJson } from "../helpers/kube-objects.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { eventually, kubeconfigFor, useNamespace } from "../helpers/testenv.ts";
import { json, kubectlQdrant } from "./plugin.ts";

const conn = (name: string) => ({ apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name }, spec: { url: "http://127.0.0.1:1", peers: { mode: "None" } } });
const loc = (name: string) => ({ apiVersion: API_VERSION, kind: "QdrantBackupLocation", metadata: { name }, spec: { s3: { bucket: "cli-bucket", credentials: { secretRef: { name: "s3-creds" } } } } });
const schedule = { apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "nightly" }, spec: { schedule: "0 2 * * *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, backupLabels: { team: "search" } } };
const backup = (name: string) => ({ apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } } });
const rollout = (name: string, mode: "Auto" | "Manual") => ({
  apiVersion: API_VERSION,
  kind: "CollectionRollout",
  metadata: { name },
  spec: { connectionRef: { name: "qdrant" }, alias: "policies", collection: `policies_${name}`, source: { external: {} }, promotion: { mode } },
});

/** Writes `status` as a controller would (the status subresource). */
const setStatus = (ns: string, resource: string, name: string, status: object) => kubectl(["patch", "-n", ns, resource, name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })]);

test("backup now <schedule> makes the schedule's backup; unknown names and ambiguous defaults say what to pass", async (t) => {
  const ns = await useNamespace(t, "cli-now");
  await apply(ns, [conn("qdrant"), loc("s3"), schedule]);
  const b = json<{ metadata: { name: string; labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> }; spec: Record<string, unknown> }>(
    await kubectlQdrant(["backup", "now", "nightly", "-n", ns, "-o", "json"]),
  );
  assert.match(b.metadata.name, /^nightly-now-/);
  assert.equal(b.metadata.labels[SCHEDULE_LABEL], "nightly");
  assert.equal(b.metadata.labels.team, "search", "the schedule's backupLabels");
  assert.deepEqual(b.metadata.ownerReferences.map((o) => [o.kind, o.name, o.controller]), [["QdrantBackupSchedule", "nightly", true]]);
  // The schedule's backup settings as the apiserver stored them (its defaults included).
  assert.deepEqual(b.spec, { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, mode: "Collection", deletionPolicy: "Retain" });
  const plain = await kubectlQdrant(["backup", "now", "nightly", "--namespace", ns]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^qdrantbackup\.qdrant-operator\.dev\/nightly-now-\w+ created$/m);

  await apply(ns, [conn("other")]);
  const ambiguous = await kubectlQdrant(["backup", "now", "policies", "-n", ns]);
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /namespace \S+ has 2 QdrantConnections \(other, qdrant\): pass --connection <name>/);
  const empty = await useNamespace(t, "cli-now-empty");
  const none = await kubectlQdrant(["backup", "now", "policies", "-n", empty]);
  assert.match(none.stderr, /no QdrantConnection in namespace \S+ and no schedule named so/);
  const usage = await kubectlQdrant(["backup", "now", "-n", ns]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /backup now takes one schedule or collection name/);
});

test("backups list prints the namespace's backups; a user without RBAC is told which verb and resource", async (t) => {
  const ns = await useNamespace(t, "cli-list");
  await apply(ns, [backup("b1"), { ...backup("b2"), metadata: { name: "b2", labels: { [SCHEDULE_LABEL]: "nightly" } } }]);
  await setStatus(ns, "qdrantbackup", "b1", { phase: "Succeeded", sizeBytes: 3 * 1024 * 1024, startTime: "2026-01-15T02:00:00Z", completionTime: "2026-01-15T02:01:00Z" });
  await setStatus(ns, "qdrantbackup", "b2", { phase: "Failed" });
  const r = await kubectlQdrant(["backups", "list", "-n", ns]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^b1\s+<none>\s+policies\s+Succeeded\s+3\.0MiB\s+2026-01-15T02:00:00Z\s+\d+s$/m);
  assert.match(r.stdout, /^b2\s+nightly\s+policies\s+Failed\s+<none>\s+<none>\s+\d+s$/m);
  const y = await kubectlQdrant(["backups", "list", "-n", ns, "-o", "yaml"]);
  assert.match(y.stdout, /^ {2}- name: b1$/m);

  const nobody = await kubeconfigFor("cli-nobody", []);
  const refused = await kubectlQdrant(["backups", "list", "-n", ns, "--kubeconfig", nobody]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, new RegExp(`forbidden: you may not list qdrantbackups\\.qdrant-operator\\.dev in namespace ${ns}`));
  const noConfig = await kubectlQdrant(["backups", "list"], { env: { KUBECONFIG: "/nonexistent/kubeconfig" } });
  assert.match(noConfig.stderr, /KUBECONFIG=\/nonexistent\/kubeconfig: none of its files exists/);
  const missing = await kubectlQdrant(["backups", "list", "--from-bucket", "nope", "-n", ns]);
  assert.match(missing.stderr, new RegExp(`QdrantBackupLocation ${ns}/nope not found`));
  const badSecret = await (async () => {
    await apply(ns, [loc("s3")]);
    return kubectlQdrant(["backups", "list", "--from-bucket", "s3", "-n", ns]);
  })();
  assert.match(badSecret.stderr, new RegExp(`spec\\.s3\\.credentials\\.secretRef\\.name: Secret ${ns}/s3-creds does not exist`));
});

test("restore creates a QdrantRestore of the backup (--as: another name); --wait watches until it ends; a missing backup is named", async (t) => {
  const ns = await useNamespace(t, "cli-restore");
  await apply(ns, [backup("b1")]);
  await setStatus(ns, "qdrantbackup", "b1", { phase: "Succeeded" });
  const r = json<{ metadata: { name: string }; spec: Record<string, unknown> }>(await kubectlQdrant(["restore", "b1", "--as", "policies_copy", "-n", ns, "-o", "json"]));
  assert.deepEqual(r.spec.source, { backupRef: { name: "b1" } });
  assert.deepEqual(r.spec.target, { connectionRef: { name: "qdrant" }, collection: "policies_copy" }, "--as is target.collection; the backup's connection");
  assert.equal(r.spec.policy, "Once");

  // Running through kubectl in the background while the "controller" writes the status.
  const child = kubectlQdrant(["restore", "b1", "--name", "waited", "--wait", "-n", ns]);
  await eventually("the restore to exist", async () => ((await getJson(ns, "qdrantrestore", "waited")) ? true : undefined));
  await setStatus(ns, "qdrantrestore", "waited", { phase: "Running" });
  await setStatus(ns, "qdrantrestore", "waited", { phase: "Failed", targetCollection: "policies", conditions: [{ type: "Ready", status: "False", reason: "CollectionExists", message: "collection policies exists", lastTransitionTime: "2026-01-15T02:00:00Z" }] });
  const done = await child;
  assert.equal(done.code, 1, "Failed exits 1");
  assert.match(done.stdout, /^qdrantrestore\/waited Failed into policies: CollectionExists: collection policies exists$/m);

  const missing = await kubectlQdrant(["restore", "nope", "-n", ns]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, new RegExp(`QdrantBackup ${ns}/nope not found`));
});

test("rollout promote/abort/undo set the fields the controller reads, and refuse what it would ignore", async (t) => {
  const ns = await useNamespace(t, "cli-rollout");
  await apply(ns, [rollout("manual", "Manual"), rollout("auto", "Auto")]);
  await setStatus(ns, "collectionrollout", "manual", { phase: "AwaitingPromotion", activeCollection: "policies_v1", gates: [{ name: "minPoints", passed: true, observed: "20", threshold: "10" }] });
  const st = await kubectlQdrant(["rollout", "status", "manual", "-n", ns]);
  assert.match(st.stdout, /^Phase: +AwaitingPromotion$/m);
  assert.match(st.stdout, /^Alias: +policies -> policies_v1$/m);
  assert.match(st.stdout, /^minPoints\s+true\s+20\s+10/m);
  assert.equal((await kubectlQdrant(["rollout", "promote", "manual", "-n", ns])).code, 0);
  assert.equal((await getJson<{ spec: { promotion: { approved?: boolean } } }>(ns, "collectionrollout", "manual"))?.spec.promotion.approved, true);
  const auto = await kubectlQdrant(["rollout", "promote", "auto", "-n", ns]);
  assert.match(auto.stderr, /rollout auto promotes itself \(spec\.promotion\.mode is Auto\)/);

  const early = await kubectlQdrant(["rollout", "undo", "manual", "-n", ns]);
  assert.match(early.stderr, /undo applies once it is Promoted; kubectl qdrant rollout abort manual stops it before the switch/);
  assert.equal((await kubectlQdrant(["rollout", "abort", "auto", "-n", ns])).code, 0);
  assert.equal((await getJson<{ spec: { abort?: boolean } }>(ns, "collectionrollout", "auto"))?.spec.abort, true);

  await setStatus(ns, "collectionrollout", "manual", { phase: "Promoted", previousCollection: "policies_v1" });
  const late = await kubectlQdrant(["rollout", "abort", "manual", "-n", ns]);
  assert.match(late.stderr, /abort applies before the switch; kubectl qdrant rollout undo manual points the alias back/);
  assert.equal((await kubectlQdrant(["rollout", "undo", "manual", "-n", ns])).code, 0);
  assert.equal((await getJson<{ spec: { rollback?: boolean } }>(ns, "collectionrollout", "manual"))?.spec.rollback, true);
  const unknown = await kubectlQdrant(["rollout", "resume", "manual", "-n", ns]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /rollout needs one of status, promote, abort, undo, not "resume"/);
});

test("status shows schedules, the last good backup, running work and what fails; a bad flag is refused", async (t) => {
  const ns = await useNamespace(t, "cli-status");
  await apply(ns, [schedule, backup("good"), backup("bad"), rollout("r", "Auto"), { apiVersion: API_VERSION, kind: "QdrantRestore", metadata: { name: "rs" }, spec: { source: { backupRef: { name: "good" } }, target: { connectionRef: { name: "qdrant" } } } }]);
  const done = new Date(Date.now() - 3 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  await setStatus(ns, "qdrantbackupschedule", "nightly", { lastScheduleTime: done, nextScheduleTime: "2099-01-01T02:00:00Z", lastSuccessfulTime: done });
  await setStatus(ns, "qdrantbackup", "good", { phase: "Succeeded", completionTime: done });
  await setStatus(ns, "qdrantbackup", "bad", { phase: "Failed", failure: { reason: "QdrantUnreachable", message: "connection refused" } });
  await setStatus(ns, "qdrantrestore", "rs", { phase: "Running" });
  await setStatus(ns, "collectionrollout", "r", { phase: "Validating" });
  const r = await kubectlQdrant(["status", "-n", ns]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^Namespace ${ns}: last good backup good, 3h ago$`, "m"));
  assert.match(r.stdout, new RegExp(`^nightly\\s+0 2 \\* \\* \\*\\s+${done}\\s+2099-01-01T02:00:00Z\\s+3h ago$`, "m"));
  assert.match(r.stdout, /^rs\s+Running\s+\d+s$/m);
  assert.match(r.stdout, /^r\s+Validating\s+policies$/m);
  assert.match(r.stdout, /^QdrantBackup\s+bad\s+Failed: QdrantUnreachable: connection refused$/m);
  const data = json<{ failing: unknown[] }>(await kubectlQdrant(["status", "-n", ns, "-o", "json"]));
  assert.equal(data.failing.length, 1);

  const bad = await kubectlQdrant(["status", "-n", ns, "--watch"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --watch for "status"/);
  const help = await kubectlQdrant(["status", "--help"]);
  assert.match(help.stdout, /^Usage:\n {2}kubectl qdrant status \[flags\]$/m);
});
