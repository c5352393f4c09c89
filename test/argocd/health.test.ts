/**
 * The Argo CD health checks (deploy/argocd/argocd-cm-health.yaml) run by a real Lua 5.4 — the scripts
 * exactly as the ConfigMap patch holds them, with the resource as the global `obj`, as Argo CD runs them.
 * QdrantBackup statuses come from the backup controller's own status function (statusFor); the other
 * kinds' statuses are written out with the phases, condition types and reasons their controllers set.
 * The patch itself must be what deploy/argocd/generate.ts writes from the .lua files.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { parse } from "yaml";
import { GROUP } from "../../src/api/group.ts";
import { statusFor } from "../../src/controllers/backup/status.ts";
import { HEALTH_KINDS, HEALTH_PATCH, healthPatch, type HealthKind } from "../../deploy/argocd/generate.ts";
import { luaPath } from "../helpers/tools.ts";

const run = promisify(execFile);
const T0 = new Date("2026-12-02T10:00:00Z");
const ID = "20261202T100000Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";

/** A JSON value as a Lua expression (objects become tables, arrays sequences). */
function lua(v: unknown): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `{${v.map(lua).join(", ")}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}] = ${lua(x)}`).join(", ")}}`;
}

const patch = parse(readFileSync(HEALTH_PATCH, "utf8")) as { data: Record<string, string> };
let dir: string;
let interpreter: string;

async function health(kind: HealthKind, obj: object): Promise<{ status: string; message: string }> {
  const script = patch.data[`resource.customizations.health.${GROUP}_${kind}`];
  assert.ok(script, `the patch has ${kind}'s script`);
  const file = (name: string) => join(dir, `${kind}-${name}-${Math.random().toString(36).slice(2)}.lua`);
  const [scriptFile, objFile] = [file("health"), file("obj")];
  await writeFile(scriptFile, script);
  await writeFile(objFile, `obj = ${lua(obj)}\n`);
  const runner = `dofile(${JSON.stringify(objFile)}); local hs = dofile(${JSON.stringify(scriptFile)}); io.write(hs.status, "\\n", hs.message)`;
  const { stdout } = await run(interpreter, ["-e", runner]);
  const [status, ...message] = stdout.split("\n");
  return { status: status!, message: message.join("\n") };
}

const cond = (type: string, status: string, reason: string, message: string, observedGeneration = 1) => ({ type, status, reason, message, observedGeneration, lastTransitionTime: T0.toISOString() });
const object = (status: object | undefined, meta: Record<string, unknown> = {}) => ({ metadata: { name: "x", namespace: "prod", generation: 1, ...meta }, spec: {}, ...(status ? { status } : {}) });

describe("Argo CD health checks, run by Lua 5.4", () => {
  before(async () => {
    interpreter = await luaPath();
    dir = await mkdtemp(join(tmpdir(), "argocd-health-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("the ConfigMap patch is what generate.ts writes from the .lua files, one key per kind", () => {
    assert.equal(readFileSync(HEALTH_PATCH, "utf8"), healthPatch(), "stale: run node deploy/argocd/generate.ts");
    assert.deepEqual(Object.keys(patch.data).sort(), HEALTH_KINDS.map((k) => `resource.customizations.health.${GROUP}_${k}`).sort());
  });

  test("QdrantBackup, from the controller's own statuses", async () => {
    const waiting = statusFor(undefined, { kind: "Waiting", reason: "SecretNotFound", message: "spec.encryption.keySecretRef: Secret backup-age does not exist" }, 1, T0);
    const running = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Running", startTime: T0.toISOString() } }, 1, T0);
    const done = statusFor(running, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Succeeded", result: { ok: true, backupId: ID, startTime: T0.toISOString(), completionTime: T0.toISOString(), sizeBytes: 9, collections: [] } } }, 1, T0);
    const failed = statusFor(undefined, { kind: "Job", jobName: "backup-x", backupId: ID, outcome: { phase: "Failed", reason: "QdrantError", message: "No space left on device" } }, 1, T0);
    const invalid = statusFor(undefined, { kind: "Invalid", message: "spec.connectionRef.name: is required" }, 1, T0);
    const rows: Array<[string, object, string, RegExp]> = [
      ["no status yet", object(undefined), "Progressing", /Waiting for the operator/],
      ["waiting for a Secret", object(waiting), "Progressing", /Secret backup-age does not exist/],
      ["running", object(running), "Progressing", /backup-x/],
      ["succeeded", object(done), "Healthy", /Backed up/],
      ["failed", object(failed), "Degraded", /No space left on device/],
      ["an invalid spec", object(invalid), "Degraded", /spec\.connectionRef\.name/],
      ["a spec edit not yet judged", object(done, { generation: 2 }), "Progressing", /observe generation 2/],
      [
        "deleted, its data still locked",
        object({ ...done, conditions: [...(done.conditions ?? []), cond("DataDeleted", "False", "Locked", "Locked until 2026-12-03T10:00:00Z: S3 Object Lock keeps …")] }, { deletionTimestamp: T0.toISOString() }),
        "Progressing",
        /Locked until 2026-12-03T10:00:00Z/,
      ],
    ];
    for (const [name, obj, status, message] of rows) {
      const hs = await health("QdrantBackup", obj);
      assert.equal(hs.status, status, name);
      assert.match(hs.message, message, name);
    }
  });

  const accepted = cond("Accepted", "True", "Validated", "The spec is valid.");
  const table: Array<[HealthKind, string, object, string]> = [
    ["QdrantConnection", "reachable", { conditions: [cond("Ready", "True", "Connected", "Qdrant 1.19.0, 3 peers")] }, "Healthy"],
    ["QdrantConnection", "unreachable", { conditions: [cond("Ready", "False", "QdrantUnreachable", "spec.url: connection refused")] }, "Degraded"],
    ["QdrantBackupLocation", "no Object Lock on the bucket", { conditions: [cond("Ready", "False", "ObjectLockNotEnabled", "spec.objectLock: bucket has none")] }, "Degraded"],
    ["QdrantBackupLocation", "usable", { conditions: [cond("Ready", "True", "Ready", "bucket backups is usable")] }, "Healthy"],
    ["QdrantBackupSchedule", "scheduling, last backup good", { conditions: [cond("Ready", "True", "Scheduled", "Next backup at …"), cond("LastBackupSucceeded", "True", "Succeeded", "nightly-1 succeeded")] }, "Healthy"],
    ["QdrantBackupSchedule", "last backup failed", { conditions: [cond("Ready", "True", "Scheduled", "Next backup at …"), cond("LastBackupSucceeded", "False", "StorageAccessDenied", "nightly-2: Access Denied")] }, "Degraded"],
    ["QdrantBackupSchedule", "suspended", { conditions: [cond("Ready", "True", "Suspended", "Suspended: no new backups are created")] }, "Suspended"],
    ["QdrantBackupSchedule", "invalid cron", { conditions: [cond("Ready", "False", "InvalidSpec", "spec.schedule: not a valid schedule")] }, "Degraded"],
    ["QdrantRestore", "restored once", { phase: "Succeeded", conditions: [accepted, cond("Ready", "True", "Restored", "Restored 20 points"), cond("Failed", "False", "Restored", "Restored 20 points")] }, "Healthy"],
    ["QdrantRestore", "IfMissing watching", { phase: "Watching", conditions: [accepted, cond("Ready", "True", "Watching", "docs exists")] }, "Healthy"],
    ["QdrantRestore", "running", { phase: "Running", conditions: [accepted, cond("Ready", "False", "Running", "Job restore-x-1 is restoring")] }, "Progressing"],
    ["QdrantRestore", "waiting for its backup", { phase: "Pending", conditions: [accepted, cond("Ready", "False", "BackupNotFound", "spec.source.backupRef: no such backup")] }, "Progressing"],
    ["QdrantRestore", "failed: wrong key", { phase: "Failed", conditions: [accepted, cond("Ready", "False", "WrongEncryptionKey", "cannot decrypt: wrong identity"), cond("Failed", "True", "WrongEncryptionKey", "cannot decrypt: wrong identity")] }, "Degraded"],
    ["QdrantRestore", "a drill that did not verify", { phase: "Watching", conditions: [accepted, cond("Ready", "True", "DrillScheduled", "next drill at …"), cond("Verified", "False", "CountMismatch", "19 of 20 points")] }, "Degraded"],
    ["QdrantRestore", "refused spec", { conditions: [cond("Accepted", "False", "InvalidSpec", "spec.target.collection: required"), cond("Ready", "False", "InvalidSpec", "spec.target.collection: required")] }, "Degraded"],
    ["CollectionRollout", "copying", { phase: "Preparing", conditions: [accepted, cond("Ready", "False", "Preparing", "copied 10 of 20 points")] }, "Progressing"],
    ["CollectionRollout", "awaiting manual promotion", { phase: "AwaitingPromotion", conditions: [accepted, cond("Ready", "False", "AwaitingPromotion", "set spec.promotion.approved")] }, "Suspended"],
    ["CollectionRollout", "promoted, analysis running", { phase: "Promoted", conditions: [accepted, cond("Ready", "False", "Analyzing", "Analysis runs until …")] }, "Progressing"],
    ["CollectionRollout", "promoted", { phase: "Promoted", conditions: [accepted, cond("Ready", "True", "Promoted", "Switched alias policies_production to policies_v2")] }, "Healthy"],
    ["CollectionRollout", "rolled back", { phase: "RolledBack", conditions: [accepted, cond("Ready", "False", "AnalysisFailed", "Analysis failed: overlap 0.2 < 0.9")] }, "Degraded"],
    ["CollectionRollout", "gates timed out", { phase: "Failed", conditions: [accepted, cond("Ready", "False", "GatesTimedOut", "gates not passed within 1h")] }, "Degraded"],
    ["CollectionRollout", "aborted", { phase: "Aborted", conditions: [accepted, cond("Ready", "False", "Aborted", "aborted; green deleted")] }, "Degraded"],
  ];
  for (const [kind, name, status, want] of table) {
    test(`${kind}: ${name} is ${want}, with Ready's words`, async () => {
      const hs = await health(kind, object(status));
      assert.equal(hs.status, want);
      const said = (status as { conditions: Array<{ type: string; status: string; message: string }> }).conditions;
      assert.ok(said.some((c) => c.message === hs.message), `the message is one of the conditions': ${hs.message}`);
    });
  }
});
