/** Which collections a backup of `all` or a pattern leaves out because the operator is building them, and which plans carry the list. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantBackupSpec } from "../../../src/api/v1alpha1/backup.ts";
import { buildBackupJob, buildBackupPlan } from "../../../src/controllers/backup/build-job.ts";
import { collectionsBeingBuilt, type BuildingRestore, type BuildingRollout } from "../../../src/controllers/backup/collections-being-built.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";
import type { BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const restore = (name: string, o: { ns?: string; policy?: string; connection?: string; collection?: string; target?: string; phase?: string } = {}): BuildingRestore => ({
  metadata: { namespace: o.ns ?? "prod", name },
  spec: { ...(o.policy !== undefined ? { policy: o.policy } : {}), target: { connectionRef: { name: o.connection ?? "qdrant" }, ...(o.collection ? { collection: o.collection } : {}) } },
  ...(o.target || o.phase ? { status: { ...(o.target ? { targetCollection: o.target } : {}), ...(o.phase ? { phase: o.phase } : {}) } } : {}),
});
const rollout = (name: string, o: { ns?: string; phase?: string; connection?: string; collection?: string } = {}): BuildingRollout => ({
  metadata: { namespace: o.ns ?? "prod", name },
  spec: { connectionRef: { name: o.connection ?? "qdrant" }, collection: o.collection ?? `${name}_green` },
  ...(o.phase ? { status: { phase: o.phase } } : {}),
});
// This Qdrant: connection "qdrant" in prod, and "shared" in team-b (another namespace's connection to it).
const here = (ns: string, connection: string) => (ns === "prod" && connection === "qdrant") || (ns === "team-b" && connection === "shared");

test("drills' temporary collections and unpromoted rollouts' green collections on this Qdrant, with reasons", () => {
  const rows: Array<{ name: string; restores?: BuildingRestore[]; rollouts?: BuildingRollout[]; want: Array<[string, string]> }> = [
    { name: "nothing", want: [] },
    {
      name: "a drill: the collection its status records; one no controller has acted on (no status) leaves nothing out",
      restores: [restore("drill", { policy: "Drill", collection: "policies_drill" }), restore("drill2", { policy: "Drill", target: "policies_drill_20260115" })],
      want: [["policies_drill_20260115", "the temporary collection of restore drill QdrantRestore prod/drill2"]],
    },
    { name: "restores that are not drills restore real collections", restores: [restore("once", { collection: "a" }), restore("heal", { policy: "IfMissing", target: "b" })], want: [] },
    {
      name: "another restore's target only while a run of it is in flight (half restored, or waiting for the retry of a killed attempt)",
      restores: [
        restore("once", { target: "a", phase: "Running" }),
        restore("heal", { policy: "IfMissing", target: "b", phase: "Watching" }),
        restore("done", { target: "c", phase: "Succeeded" }),
        restore("failed", { target: "d", phase: "Failed" }),
      ],
      want: [["a", "the target of QdrantRestore prod/once, being restored"]],
    },
    { name: "a drill on another Qdrant", restores: [restore("drill", { policy: "Drill", target: "x", connection: "other" })], want: [] },
    {
      name: "rollouts while being built or judged; without a phase (no controller has acted), promoted, rolled back and aborted ones leave nothing out",
      rollouts: [
        rollout("new"),
        rollout("preparing", { phase: "Preparing" }),
        rollout("waiting", { phase: "AwaitingPromotion" }),
        rollout("failed", { phase: "Failed" }),
        rollout("promoted", { phase: "Promoted" }),
        rollout("back", { phase: "RolledBack" }),
        rollout("aborted", { phase: "Aborted" }),
      ],
      want: [
        ["failed_green", "the green collection of CollectionRollout prod/failed, not promoted yet"],
        ["preparing_green", "the green collection of CollectionRollout prod/preparing, not promoted yet"],
        ["waiting_green", "the green collection of CollectionRollout prod/waiting, not promoted yet"],
      ],
    },
    {
      name: "another namespace's connection to the same Qdrant counts; one collection built twice is one entry",
      rollouts: [rollout("b", { ns: "team-b", connection: "shared", collection: "v2", phase: "Preparing" }), rollout("c", { ns: "team-c", connection: "shared", collection: "v3", phase: "Preparing" })],
      restores: [restore("d", { policy: "Drill", target: "v2" })],
      want: [["v2", "the green collection of CollectionRollout team-b/b, not promoted yet; the temporary collection of restore drill QdrantRestore prod/d"]],
    },
  ];
  for (const row of rows) {
    assert.deepEqual(collectionsBeingBuilt(row.restores ?? [], row.rollouts ?? [], here).map((e) => [e.name, e.reason]), row.want, row.name);
  }
});

test("the plan carries exclude for all and patterns only: explicit names are the user's choice, and a storage snapshot cannot leave anything out", () => {
  const exclude = [{ name: "docs_v2", reason: "the green collection of CollectionRollout prod/v2, not promoted yet" }];
  const backup = (spec: Partial<QdrantBackupSpec>): BackupObject => ({
    apiVersion: "qdrant-operator.dev/v1alpha1",
    kind: "QdrantBackup",
    metadata: { name: "b", namespace: "prod", uid: "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", creationTimestamp: "2026-01-15T02:00:04Z" },
    spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, ...spec },
  });
  const connection: QdrantConnectionObject = { metadata: { name: "qdrant", namespace: "prod" }, spec: { url: "http://qdrant.prod.svc:6333" } };
  const location: BackupLocationObject = { metadata: { name: "s3", namespace: "prod" }, spec: { s3: { bucket: "backups", credentials: { secretRef: { name: "s3" } } } } };
  const settings = { defaultImage: "img", operatorVersion: "0.1.0", exclude };
  const rows: Array<[string, Partial<QdrantBackupSpec>, unknown]> = [
    ["all", { collections: { all: true } }, exclude],
    ["a pattern", { collections: { pattern: "docs.*" } }, exclude],
    ["explicit names", { collections: { names: ["docs_v2"] } }, undefined],
    ["full storage", { mode: "FullStorage" }, undefined],
  ];
  for (const [name, spec, want] of rows) assert.deepEqual(buildBackupPlan(backup(spec), connection, location, settings).exclude, want, name);
  assert.equal(buildBackupPlan(backup({ collections: { all: true } }), connection, location, { ...settings, exclude: [] }).exclude, undefined, "nothing to leave out: no field");
  // The Job's own check accepts the plan it gets.
  const job = buildBackupJob(backup({ collections: { all: true } }), connection, location, settings);
  const plan = JSON.parse(job.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === "BACKUP_PLAN")?.value ?? "{}") as { exclude?: unknown };
  assert.deepEqual(plan.exclude, exclude);
});
