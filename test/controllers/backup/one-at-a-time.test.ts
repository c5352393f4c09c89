import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backupAhead, WAITING_FOR_TURN } from "../../../src/controllers/backup/one-at-a-time.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";

type Ready = { reason: string } | undefined;
function qb(name: string, o: { created?: string; connection?: string; phase?: "Pending" | "Running" | "Succeeded" | "Failed"; ready?: Ready; deleting?: boolean } = {}): BackupObject {
  return {
    metadata: { name, namespace: "prod", uid: `uid-${name}`, creationTimestamp: o.created ?? "2026-01-15T02:00:00Z", ...(o.deleting ? { deletionTimestamp: "2026-01-15T03:00:00Z" } : {}) },
    spec: { connectionRef: { name: o.connection ?? "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["docs"] } },
    ...(o.phase || o.ready
      ? { status: { ...(o.phase ? { phase: o.phase } : {}), ...(o.ready ? { conditions: [{ type: "Ready", status: "False", reason: o.ready.reason, message: "m", lastTransitionTime: "2026-01-15T02:00:00Z" }] } : {}) } }
      : {}),
  };
}

describe("backupAhead", () => {
  const me = qb("b", { created: "2026-01-15T02:00:00Z" });
  const rows: Array<[string, BackupObject[], string | undefined]> = [
    ["alone", [], undefined],
    ["a running backup of the same connection, newer or not", [qb("z", { created: "2026-01-15T02:05:00Z", phase: "Running", ready: { reason: "Running" } })], "z"],
    ["a running backup of another connection", [qb("x", { connection: "other", phase: "Running" })], undefined],
    ["an older new backup (no status yet)", [qb("a", { created: "2026-01-15T01:59:59Z" })], "a"],
    ["created in the same second: the name decides", [qb("a"), qb("c")], "a"],
    ["a newer new backup waits for me, not I for it", [qb("c", { created: "2026-01-15T02:00:01Z" })], undefined],
    ["an older one waiting for its turn too", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Pending", ready: { reason: WAITING_FOR_TURN } })], "a"],
    ["an older one waiting for a Secret does not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Pending", ready: { reason: "SecretNotFound" } })], undefined],
    ["finished ones do not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Succeeded" }), qb("f", { created: "2026-01-15T01:00:00Z", phase: "Failed" })], undefined],
    ["one being deleted does not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Running", deleting: true })], undefined],
    ["the running one is named before an older waiting one", [qb("a", { created: "2026-01-15T01:00:00Z" }), qb("r", { created: "2026-01-15T01:30:00Z", phase: "Running" })], "r"],
    ["itself is not in its own way", [me], undefined],
  ];
  for (const [what, others, want] of rows) test(what, () => assert.equal(backupAhead(me, others)?.metadata?.name, want));

  test("of two new backups created together, exactly one may start", () => {
    const a = qb("nightly-20260115-0200");
    const b = qb("hourly-20260115-0200");
    const startable = [a, b].filter((x) => backupAhead(x, [a, b]) === undefined).map((x) => x.metadata?.name);
    assert.deepEqual(startable, ["hourly-20260115-0200"]);
  });
});
