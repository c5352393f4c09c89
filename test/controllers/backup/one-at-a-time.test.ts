import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { BACKUP_KIND, BACKUP_TURNS, WAITING_FOR_TURN, waitingMessage } from "../../../src/controllers/backup/one-at-a-time.ts";
import type { BackupObject } from "../../../src/controllers/backup/types.ts";
import { QDRANT_BACKUPS, QDRANT_CONNECTIONS } from "../../../src/controllers/resources.ts";
import { Turns, type ConnectionLike } from "../../../src/controllers/shared/turns/turns.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import type { ListerWatcher } from "../../../src/runtime/list-watch.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";

type Ready = { reason: string } | undefined;
function qb(name: string, o: { ns?: string; created?: string; connection?: string; phase?: "Pending" | "Running" | "Succeeded" | "Failed"; ready?: Ready; deleting?: boolean } = {}): BackupObject {
  return {
    metadata: { name, namespace: o.ns ?? "prod", uid: `uid-${name}`, creationTimestamp: o.created ?? "2026-01-15T02:00:00Z", ...(o.deleting ? { deletionTimestamp: "2026-01-15T03:00:00Z" } : {}) },
    spec: { connectionRef: { name: o.connection ?? "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["docs"] } },
    ...(o.phase || o.ready
      ? { status: { ...(o.phase ? { phase: o.phase } : {}), ...(o.ready ? { conditions: [{ type: "Ready", status: "False", reason: o.ready.reason, message: "m", lastTransitionTime: "2026-01-15T02:00:00Z" }] } : {}) } }
      : {}),
  };
}
function informer<T extends KubeObject>(resource: ResourceType): Informer<T> {
  return new Informer<T>({ resource, listerWatcher: {} as ListerWatcher<T>, logger: pino({ level: "silent" }) });
}
/** Backups of `others` in a cache, with connections "qdrant" and "other" (another Qdrant) in prod and "qdrant" in staging (the same Qdrant as prod's). */
function turnsWith(others: BackupObject[], started: (b: BackupObject) => boolean = () => false): Turns {
  const connections = informer<ConnectionLike>(QDRANT_CONNECTIONS);
  connections.cache.upsert({ metadata: { namespace: "prod", name: "qdrant" }, spec: { url: "http://qdrant.db.svc:6333" } });
  connections.cache.upsert({ metadata: { namespace: "prod", name: "other" }, spec: { url: "http://other.db.svc:6333" } });
  connections.cache.upsert({ metadata: { namespace: "staging", name: "qdrant" }, spec: { service: { name: "qdrant", namespace: "db" } } });
  const backups = informer<BackupObject>(QDRANT_BACKUPS);
  for (const b of others) backups.cache.upsert(b);
  const turns = new Turns(connections);
  turns.register(BACKUP_TURNS, backups, { started });
  return turns;
}
const ahead = (me: BackupObject, others: BackupObject[]) => turnsWith(others).ahead(BACKUP_KIND, me)?.name;

describe("backups take turns per Qdrant", () => {
  const me = qb("b", { created: "2026-01-15T02:00:00Z" });
  const rows: Array<[string, BackupObject[], string | undefined]> = [
    ["alone", [], undefined],
    ["a running backup of the same connection, newer or not", [qb("z", { created: "2026-01-15T02:05:00Z", phase: "Running", ready: { reason: "Running" } })], "z"],
    ["a running backup of a connection to another Qdrant", [qb("x", { connection: "other", phase: "Running" })], undefined],
    ["a running backup in another namespace, through a connection to the same Qdrant", [qb("x", { ns: "staging", phase: "Running" })], "x"],
    ["an older new backup (no status yet)", [qb("a", { created: "2026-01-15T01:59:59Z" })], "a"],
    ["created in the same second: the name decides", [qb("a"), qb("c")], "a"],
    ["a newer new backup waits for me, not I for it", [qb("c", { created: "2026-01-15T02:00:01Z" })], undefined],
    ["an older one waiting for its turn too", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Pending", ready: { reason: WAITING_FOR_TURN } })], "a"],
    ["an older one waiting for a Secret does not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Pending", ready: { reason: "SecretNotFound" } })], undefined],
    ["finished ones do not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Succeeded" }), qb("f", { created: "2026-01-15T01:00:00Z", phase: "Failed" })], undefined],
    ["one being deleted does not block", [qb("a", { created: "2026-01-15T01:00:00Z", phase: "Running", deleting: true })], undefined],
    ["the nearest one before it is named, not the running head", [qb("r", { created: "2026-01-15T01:00:00Z", phase: "Running" }), qb("a", { created: "2026-01-15T01:30:00Z" })], "a"],
    ["itself is not in its own way", [me], undefined],
  ];
  for (const [what, others, want] of rows) test(what, () => assert.equal(ahead(me, others), want));

  test("a backup whose Job exists counts as running, whatever its status says", () => {
    const away = qb("a", { created: "2026-01-15T03:00:00Z", phase: "Pending", ready: { reason: "SecretNotFound" } });
    assert.equal(turnsWith([away], (b) => b.metadata?.name === "a").ahead(BACKUP_KIND, me)?.name, "a");
  });

  test("of two new backups created together, exactly one may start", () => {
    const a = qb("nightly-20260115-0200");
    const b = qb("hourly-20260115-0200", { ns: "staging" });
    const turns = turnsWith([a, b]);
    assert.deepEqual([a, b].filter((x) => turns.ahead(BACKUP_KIND, x) === undefined).map((x) => x.metadata?.name), ["nightly-20260115-0200"], "same second: prod sorts before staging");
  });

  test("the waiting message names the one ahead, and its namespace and connection when they differ", () => {
    const item = { kind: "QdrantBackup", namespace: "prod", name: "first", connection: "qdrant", createdAt: "", state: "Running" as const };
    assert.equal(waitingMessage(me, item), "QdrantBackup first of the same QdrantConnection qdrant is ahead in line; one backup per Qdrant runs at a time, this one starts when its turn comes");
    assert.equal(
      waitingMessage(me, { ...item, namespace: "staging", state: "Ready" }),
      "QdrantBackup staging/first (QdrantConnection staging/qdrant, the same Qdrant as qdrant) is ahead in line; one backup per Qdrant runs at a time, this one starts when its turn comes",
    );
    assert.equal(waitingMessage(me, { ...item, state: "Ready" }), waitingMessage(me, item), "the same whether it runs yet or not: no write when the line moves");
  });
});
