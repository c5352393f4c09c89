/** Which collections a backup of `all` or a pattern leaves out because the operator is building them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { collectionsBeingBuilt, type BuildingRestore, type BuildingRollout } from "../../../src/controllers/backup/collections-being-built.ts";

const restore = (name: string, o: { ns?: string; policy?: string; connection?: string; collection?: string; target?: string } = {}): BuildingRestore => ({
  metadata: { namespace: o.ns ?? "prod", name },
  spec: { ...(o.policy !== undefined ? { policy: o.policy } : {}), target: { connectionRef: { name: o.connection ?? "qdrant" }, ...(o.collection ? { collection: o.collection } : {}) } },
  ...(o.target ? { status: { targetCollection: o.target } } : {}),
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
      name: "a drill: its target collection and the one its status records",
      restores: [restore("drill", { policy: "Drill", collection: "policies_drill" }), restore("drill2", { policy: "Drill", target: "policies_drill_20260115" })],
      want: [
        ["policies_drill", "the temporary collection of restore drill QdrantRestore prod/drill"],
        ["policies_drill_20260115", "the temporary collection of restore drill QdrantRestore prod/drill2"],
      ],
    },
    { name: "restores that are not drills restore real collections", restores: [restore("once", { collection: "a" }), restore("heal", { policy: "IfMissing", target: "b" })], want: [] },
    { name: "a drill on another Qdrant", restores: [restore("drill", { policy: "Drill", collection: "x", connection: "other" })], want: [] },
    {
      name: "rollouts until promoted; promoted, rolled back and aborted ones are settled",
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
        ["new_green", "the green collection of CollectionRollout prod/new, not promoted yet"],
        ["preparing_green", "the green collection of CollectionRollout prod/preparing, not promoted yet"],
        ["waiting_green", "the green collection of CollectionRollout prod/waiting, not promoted yet"],
      ],
    },
    {
      name: "another namespace's connection to the same Qdrant counts; one collection built twice is one entry",
      rollouts: [rollout("b", { ns: "team-b", connection: "shared", collection: "v2" }), rollout("c", { ns: "team-c", connection: "shared", collection: "v3" })],
      restores: [restore("d", { policy: "Drill", collection: "v2" })],
      want: [["v2", "the green collection of CollectionRollout team-b/b, not promoted yet; the temporary collection of restore drill QdrantRestore prod/d"]],
    },
  ];
  for (const row of rows) {
    assert.deepEqual(collectionsBeingBuilt(row.restores ?? [], row.rollouts ?? [], here).map((e) => [e.name, e.reason]), row.want, row.name);
  }
});
