/**
 * selectBackup, the one definition of which backup a restore's source names, as table tests over
 * candidates from the bucket and the cluster; and the two candidate builders over real keys, manifests
 * and QdrantBackup objects.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { boundedLabel } from "../../src/api/names.ts";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { MANIFEST_VERSION, parseManifest, type Manifest, type ParseManifestResult } from "../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../src/backup/layout/object-keys.ts";
import type { BackupCandidate } from "../../src/backup/select/candidate.ts";
import { candidatesFromBackups, type ClusterBackup } from "../../src/backup/select/from-backups.ts";
import { candidatesFromListing } from "../../src/backup/select/from-listing.ts";
import { selectBackup, type RestoreSource, type Selection } from "../../src/backup/select/select-backup.ts";
import { SCHEDULE_LABEL } from "../../src/api/labels.ts";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-01-15T00:00:00Z");
const at = (hours: number) => new Date(T0 + hours * HOUR);
const uid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** A backup id created `hours` after T0. */
const idAt = (hours: number, n: number) => backupId(at(hours), uid(n));

interface C {
  id: string;
  collection?: string;
  origin?: "Bucket" | "Cluster";
  state?: BackupCandidate["state"];
  /** Exact completion (bucket), or [earliest, latest] hours. */
  done?: number | [number, number];
  schedule?: { name?: string; label?: string };
  name?: string;
  ns?: string;
  location?: string;
  connection?: string;
  fullStorage?: boolean;
}
function cand(o: C): BackupCandidate {
  const done = o.done === undefined ? undefined : typeof o.done === "number" ? { earliest: at(o.done), latest: at(o.done) } : { earliest: at(o.done[0]), latest: at(o.done[1]) };
  return {
    origin: o.origin ?? "Bucket",
    backupId: o.id,
    location: o.location ?? "s3",
    namespace: o.ns ?? "prod",
    connection: o.connection ?? "qdrant",
    mode: o.fullStorage ? "FullStorage" : "Collection",
    ...(o.fullStorage ? {} : { collection: o.collection ?? "policies" }),
    state: o.state ?? "Complete",
    ...(done ? { completed: done } : {}),
    ...(o.schedule ? { schedule: o.schedule } : {}),
    ...(o.name !== undefined ? { backupName: o.name } : {}),
  };
}

/** What a selection says, in a form rows can state: the chosen id, the possible ids, the rejections' reasons; or the failure's reason. */
function outcome(s: Selection): unknown {
  if (!s.ok) return { fail: s.reason, rejected: s.rejected.map((r) => r.reason) };
  return { backup: s.backup.backupId, possible: s.possible.map((c) => c.backupId), rejected: s.rejected.map((r) => r.reason) };
}

const NS = "prod";
const latest = (extra: Record<string, unknown> = {}): RestoreSource => ({ namespace: NS, latest: { locationRef: { name: "s3" }, collection: "policies", ...extra } });

test("latest: newest complete by completion time, filters, rejections with reasons, and what is silently not a match", () => {
  const d1 = idAt(-24, 1);
  const d2 = idAt(-48, 2);
  const d3 = idAt(-72, 3);
  const base = [cand({ id: d3, done: -71 }), cand({ id: d2, done: -47, schedule: { label: "nightly" } }), cand({ id: d1, done: -23, schedule: { label: "nightly" } })];
  const rows: Array<{ name: string; source?: RestoreSource; add?: BackupCandidate[]; want: unknown }> = [
    { name: "the newest", want: { backup: d1, possible: [d1], rejected: [] } },
    {
      name: "newer but not usable: incomplete, unreadable manifest, running, failed, being deleted",
      add: [
        cand({ id: idAt(-1, 10), state: "Incomplete" }),
        cand({ id: idAt(-2, 11), state: "ManifestUnreadable" }),
        cand({ id: idAt(-3, 12), origin: "Cluster", state: "Running" }),
        cand({ id: idAt(-4, 13), origin: "Cluster", state: "Failed", done: [-4, -3] }),
        cand({ id: idAt(-5, 14), origin: "Cluster", state: "Deleting", done: [-5, -4] }),
      ],
      want: { backup: d1, possible: [d1], rejected: ["Incomplete", "ManifestUnreadable", "NotFinished", "Failed", "BeingDeleted"] },
    },
    {
      name: "not a match at all (no rejection): another collection, location, namespace, a full-storage backup",
      add: [cand({ id: idAt(-1, 20), collection: "orders", done: 0 }), cand({ id: idAt(-1, 21), location: "gcs", done: 0 }), cand({ id: idAt(-1, 22), ns: "staging", done: 0 }), cand({ id: idAt(-1, 23), fullStorage: true, done: 0 })],
      want: { backup: d1, possible: [d1], rejected: [] },
    },
    { name: "any connection of the namespace", add: [cand({ id: idAt(-2, 24), connection: "other", done: -1 })], want: { backup: idAt(-2, 24), possible: [idAt(-2, 24)], rejected: [] } },
    { name: "scheduleRef: the label the manifest records", source: latest({ scheduleRef: { name: "nightly" } }), want: { backup: d1, possible: [d1], rejected: ["OtherSchedule"] } },
    {
      name: "scheduleRef: a long schedule name is matched through its bounded label, or the cluster's owner name",
      source: latest({ scheduleRef: { name: "x".repeat(70) } }),
      add: [cand({ id: idAt(-10, 30), done: -9, schedule: { label: boundedLabel("x".repeat(70), 63) } }), cand({ id: idAt(-12, 31), origin: "Cluster", done: [-12, -11], schedule: { name: "x".repeat(70) } })],
      want: { backup: idAt(-10, 30), possible: [idAt(-10, 30)], rejected: ["OtherSchedule", "OtherSchedule", "OtherSchedule"] },
    },
    { name: "notAfter: at or before it", source: latest({ notAfter: at(-47).toISOString() }), want: { backup: d2, possible: [d2], rejected: ["AfterNotAfter"] } },
    { name: "notAfter before everything", source: latest({ notAfter: at(-100).toISOString() }), want: { fail: "BackupNotUsable", rejected: ["AfterNotAfter", "AfterNotAfter", "AfterNotAfter"] } },
    { name: "no backup of the collection", source: latest({ collection: "orders" }), want: { fail: "BackupNotFound", rejected: [] } },
    {
      name: "two completed in the same instant: both possible, the later-created one chosen",
      add: [cand({ id: idAt(-23.5, 40), done: -23 })],
      want: { backup: idAt(-23.5, 40), possible: [idAt(-23.5, 40), d1], rejected: [] },
    },
    {
      name: "a cluster candidate whose window straddles notAfter: it and the newest sure one are both possible; the sure one is chosen",
      source: latest({ notAfter: at(-10).toISOString() }),
      add: [cand({ id: idAt(-12, 50), origin: "Cluster", done: [-12, -8] })],
      want: { backup: d1, possible: [idAt(-12, 50), d1], rejected: [] },
    },
    {
      name: "a window that surely ends after a sure one started leaves out the older one",
      add: [cand({ id: idAt(-6, 51), origin: "Cluster", done: [-6, -5] })],
      want: { backup: idAt(-6, 51), possible: [idAt(-6, 51)], rejected: [] },
    },
    {
      name: "the manifest's exact time wins over the cluster's window (one candidate per backup and collection)",
      source: latest({ notAfter: at(-10).toISOString() }),
      add: [cand({ id: idAt(-12, 52), origin: "Cluster", done: [-12, -8] }), cand({ id: idAt(-12, 52), done: -11 })],
      want: { backup: idAt(-12, 52), possible: [idAt(-12, 52)], rejected: [] },
    },
    {
      name: "the cluster says being deleted: the bucket's manifest does not make it usable",
      add: [cand({ id: idAt(-2, 53), done: -1 }), cand({ id: idAt(-2, 53), origin: "Cluster", state: "Deleting", done: [-2, -1] })],
      want: { backup: d1, possible: [d1], rejected: ["BeingDeleted"] },
    },
    {
      name: "the bucket says incomplete (the manifest is gone): a Succeeded QdrantBackup does not make it usable",
      add: [cand({ id: idAt(-2, 54), origin: "Cluster", done: [-2, -1] }), cand({ id: idAt(-2, 54), state: "Incomplete" })],
      want: { backup: d1, possible: [d1], rejected: ["Incomplete"] },
    },
  ];
  for (const row of rows) assert.deepEqual(outcome(selectBackup(row.source ?? latest(), [...base, ...(row.add ?? [])])), row.want, row.name);
});

test("backupRef and location: the backup, its one collection, and why it cannot be read", () => {
  const id = idAt(-5, 1);
  const multi = [
    cand({ id, origin: "Cluster", name: "nightly-1", done: [-5, -4], collection: "policies" }),
    cand({ id, origin: "Cluster", name: "nightly-1", done: [-5, -4], collection: "orders" }),
    cand({ id, done: -4.5, collection: "orders", name: "nightly-1" }),
  ];
  const ref = (name: string, extra: Partial<RestoreSource> = {}): RestoreSource => ({ namespace: NS, backupRef: { name }, ...extra });
  const loc = (backupId: string, extra: Record<string, unknown> = {}, top: Partial<RestoreSource> = {}): RestoreSource => ({ namespace: "dr", location: { locationRef: { name: "s3" }, backupId, ...extra }, ...top });
  const rows: Array<{ name: string; source: RestoreSource; candidates: BackupCandidate[]; want: unknown }> = [
    { name: "no source", source: { namespace: NS }, candidates: multi, want: { fail: "InvalidSpec", rejected: [] } },
    { name: "two sources", source: { namespace: NS, backupRef: { name: "x" }, latest: { collection: "policies" } }, candidates: multi, want: { fail: "InvalidSpec", rejected: [] } },
    { name: "backupRef of a single-collection backup", source: ref("solo"), candidates: [cand({ id, origin: "Cluster", name: "solo", done: [-5, -4] })], want: { backup: id, possible: [id], rejected: [] } },
    { name: "backupRef of no QdrantBackup", source: ref("gone"), candidates: multi, want: { fail: "BackupNotFound", rejected: [] } },
    { name: "backupRef: a manifest naming the QdrantBackup is not the QdrantBackup", source: ref("nightly-1"), candidates: [multi[2] as BackupCandidate], want: { fail: "BackupNotFound", rejected: [] } },
    { name: "backupRef in another namespace", source: { ...ref("nightly-1"), namespace: "staging" }, candidates: multi, want: { fail: "BackupNotFound", rejected: [] } },
    { name: "several collections and no sourceCollection", source: ref("nightly-1"), candidates: multi, want: { fail: "SourceCollectionRequired", rejected: [] } },
    { name: "sourceCollection picks one", source: ref("nightly-1", { sourceCollection: "orders" }), candidates: multi, want: { backup: id, possible: [id], rejected: [] } },
    { name: "sourceCollection the backup does not hold", source: ref("nightly-1", { sourceCollection: "users" }), candidates: multi, want: { fail: "CollectionNotInBackup", rejected: [] } },
    { name: "a running backup", source: ref("r"), candidates: [cand({ id, origin: "Cluster", name: "r", state: "Running" })], want: { fail: "BackupNotUsable", rejected: ["NotFinished"] } },
    { name: "a corrupt manifest", source: ref("c"), candidates: [cand({ id, origin: "Cluster", name: "c", done: [-5, -4] }), cand({ id, state: "ManifestUnreadable" })], want: { fail: "BackupNotUsable", rejected: ["ManifestUnreadable"] } },
    { name: "location: found through that location", source: loc(id, {}, { sourceCollection: "orders" }), candidates: [multi[2] as BackupCandidate], want: { backup: id, possible: [id], rejected: [] } },
    { name: "location: listed through another location", source: loc(id), candidates: [cand({ id, location: "gcs", done: -4 })], want: { fail: "BackupNotFound", rejected: [] } },
    { name: "location: a QdrantBackup of that id anywhere (ids are unique)", source: loc(id), candidates: [cand({ id, origin: "Cluster", location: "other", done: [-5, -4] })], want: { backup: id, possible: [id], rejected: [] } },
    { name: "location: sourceNamespace narrows", source: loc(id, { sourceNamespace: "staging" }), candidates: [cand({ id, done: -4 })], want: { fail: "BackupNotFound", rejected: [] } },
    { name: "location: sourceConnection narrows", source: loc(id, { sourceNamespace: NS, sourceConnection: "qdrant" }), candidates: [cand({ id, done: -4 }), cand({ id, connection: "other", done: -4 })], want: { backup: id, possible: [id], rejected: [] } },
    { name: "location: an incomplete backup", source: loc(id), candidates: [cand({ id, state: "Incomplete" })], want: { fail: "BackupNotUsable", rejected: ["Incomplete"] } },
    { name: "location: a full-storage backup", source: loc(id), candidates: [cand({ id, fullStorage: true, done: -4 })], want: { backup: id, possible: [id], rejected: [] } },
  ];
  for (const row of rows) assert.deepEqual(outcome(selectBackup(row.source, row.candidates)), row.want, row.name);
});

test("failure messages name what is missing and why each candidate was rejected", () => {
  const id = idAt(-5, 1);
  const none = selectBackup(latest({ scheduleRef: { name: "nightly" }, notAfter: "2026-01-10T00:00:00Z" }), [cand({ id, state: "Incomplete" }), cand({ id: idAt(-6, 2), done: -5 })]);
  assert.equal(none.ok, false);
  assert.equal(
    !none.ok && none.message,
    "spec.source.latest: there is no complete backup of collection policies in QdrantBackupLocation prod/s3 made by QdrantBackupSchedule nightly completed at or before 2026-01-10T00:00:00Z (1 incomplete, 1 made by another schedule or none)",
  );
  assert.deepEqual(
    none.rejected.map((r) => r.message),
    [`backup ${id} of collection policies is incomplete: its objects have no manifest`, `backup ${idAt(-6, 2)} of collection policies was not made by QdrantBackupSchedule nightly`],
  );
  const multi = selectBackup({ namespace: NS, backupRef: { name: "b" } }, [cand({ id, origin: "Cluster", name: "b", collection: "a" }), cand({ id, origin: "Cluster", name: "b", collection: "c" })]);
  assert.equal(!multi.ok && multi.message, `QdrantBackup prod/b holds 2 collections (a, c): set spec.sourceCollection to the one to restore`);
  const running = selectBackup({ namespace: NS, backupRef: { name: "b" } }, [cand({ id, origin: "Cluster", name: "b", state: "Running" })]);
  assert.equal(!running.ok && running.message, `backup ${id} of collection policies (QdrantBackup prod/b) has not finished`);
});

// ---- The builders ----

const UID = uid(77);
const ID = backupId(new Date("2026-01-15T02:00:04Z"), UID);
const where = { prefix: "qdrant", namespace: "prod", connection: "qdrant" };
const longName = `c${"ö".repeat(150)}`;

function manifestFor(parts: BackupKeyParts, name: string, completion: string, scheduleName?: string): Manifest {
  return {
    version: MANIFEST_VERSION,
    backupId: parts.backupId,
    mode: "Collection",
    source: { namespace: "prod", connection: "qdrant", backupName: "nightly-20260115-0200", backupUid: UID, ...(scheduleName ? { scheduleName } : {}) },
    operator: { version: "0.1.0" },
    qdrant: { version: "1.19.0", distributed: false },
    collection: { name, pointsCount: 3, aliases: [], config: {} },
    peers: [{ peerId: "1", shardIds: [0], file: { key: snapshotKey(parts, "1"), size: 10, sha256: "a".repeat(64) } }],
    timings: { startTime: "2026-01-15T02:00:04Z", completionTime: completion },
  };
}

test("candidatesFromListing: the manifest's facts (a long name's real name, its time, its schedule); unread, corrupt and incomplete ones say so", () => {
  const docs: BackupKeyParts = { ...where, collection: "docs", backupId: ID };
  const long: BackupKeyParts = { ...where, collection: longName, backupId: ID };
  const unread: BackupKeyParts = { ...where, collection: "unread", backupId: ID };
  const corrupt: BackupKeyParts = { ...where, collection: "corrupt", backupId: ID };
  const crashed: BackupKeyParts = { ...where, collection: "crashed", backupId: ID };
  const listing = groupListing([manifestKey(docs), snapshotKey(docs, "1"), manifestKey(long), manifestKey(unread), manifestKey(corrupt), snapshotKey(crashed, "1")], "qdrant");
  const manifests = new Map<string, ParseManifestResult>([
    [manifestKey(docs), parseManifest(JSON.stringify(manifestFor(docs, "docs", "2026-01-15T02:05:00Z", "nightly")), { key: manifestKey(docs) })],
    [manifestKey(long), parseManifest(JSON.stringify(manifestFor(long, longName, "2026-01-15T02:06:00Z")), { key: manifestKey(long) })],
    [manifestKey(corrupt), parseManifest("{", { key: manifestKey(corrupt) })],
  ]);
  const got = candidatesFromListing(listing, { location: "s3", manifests });
  const brief = got.map((c) => [c.collection, c.state, c.completed?.latest.toISOString(), c.schedule?.label, c.backupName, c.detail?.slice(0, 30)]);
  assert.deepEqual(brief.sort((a, b) => String(a[0]).localeCompare(String(b[0]))), [
    [longName, "Complete", "2026-01-15T02:06:00.000Z", undefined, "nightly-20260115-0200", undefined],
    ["corrupt", "ManifestUnreadable", undefined, undefined, undefined, `manifest ${manifestKey(corrupt)}`.slice(0, 30)],
    ["crashed", "Incomplete", undefined, undefined, undefined, undefined],
    ["docs", "Complete", "2026-01-15T02:05:00.000Z", "nightly", "nightly-20260115-0200", undefined],
    ["unread", "ManifestUnreadable", undefined, undefined, undefined, "it was not read"],
  ]);
  assert.ok(got.every((c) => c.origin === "Bucket" && c.location === "s3" && c.namespace === "prod" && c.connection === "qdrant" && c.backupId === ID));
  // latest of the long-named collection finds it by its real name, though its key holds a hash.
  const picked = selectBackup({ namespace: "prod", latest: { locationRef: { name: "s3" }, collection: longName } }, got);
  assert.equal(picked.ok && picked.backup.manifestKey, manifestKey(long));
});

function qb(name: string, o: { phase?: string; collections?: string[]; names?: string[]; all?: boolean; deleting?: boolean; owner?: string; label?: string; fullStorage?: boolean } = {}): ClusterBackup {
  return {
    metadata: {
      name,
      namespace: "prod",
      uid: UID,
      creationTimestamp: "2026-01-15T02:00:04Z",
      ...(o.deleting ? { deletionTimestamp: "2026-01-16T00:00:00Z" } : {}),
      ...(o.label ? { labels: { [SCHEDULE_LABEL]: o.label } } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name: o.owner, uid: uid(1), controller: true }] } : {}),
    },
    spec: {
      connectionRef: { name: "qdrant" },
      locationRef: { name: "s3" },
      ...(o.fullStorage ? { mode: "FullStorage" as const } : { collections: o.all ? { all: true } : { names: o.names ?? ["docs"] } }),
    },
    status: {
      phase: (o.phase ?? "Succeeded") as "Succeeded",
      startTime: "2026-01-15T02:00:10Z",
      completionTime: "2026-01-15T02:10:00Z",
      ...(o.collections ? { collections: o.collections.map((c) => ({ name: c, manifestKey: `k/${c}` })) } : {}),
    },
  };
}

test("candidatesFromBackups: one per collection (the status's and the spec's names), the state, the completion window, the schedule", () => {
  const rows: Array<{ name: string; b: ClusterBackup; want: unknown[] }> = [
    { name: "named, status lists them", b: qb("a", { names: ["docs", "orders"], collections: ["docs", "orders"] }), want: [["docs", "Complete", "k/docs"], ["orders", "Complete", "k/orders"]] },
    { name: "a short status does not hide a named collection", b: qb("a", { names: ["docs", "orders"], collections: ["docs"] }), want: [["docs", "Complete", "k/docs"], ["orders", "Complete", undefined]] },
    { name: "all: what the status lists", b: qb("a", { all: true, collections: ["x", "y"] }), want: [["x", "Complete", "k/x"], ["y", "Complete", "k/y"]] },
    { name: "running, named: candidates to reject", b: qb("a", { phase: "Running" }), want: [["docs", "Running", undefined]] },
    { name: "running, all: none yet", b: qb("a", { phase: "Running", all: true }), want: [] },
    { name: "failed", b: qb("a", { phase: "Failed" }), want: [["docs", "Failed", undefined]] },
    { name: "being deleted", b: qb("a", { deleting: true }), want: [["docs", "Deleting", undefined]] },
    { name: "full storage", b: qb("a", { fullStorage: true, collections: ["x"] }), want: [[undefined, "Complete", undefined]] },
  ];
  for (const row of rows) assert.deepEqual(candidatesFromBackups([row.b]).map((c) => [c.collection, c.state, c.manifestKey]), row.want, row.name);

  const [c] = candidatesFromBackups([qb("nightly-1", { owner: "nightly", label: "nightly" })]);
  assert.deepEqual({ ...c, completed: c?.completed && [c.completed.earliest.toISOString(), c.completed.latest.toISOString()] }, {
    origin: "Cluster",
    backupId: ID,
    location: "s3",
    namespace: "prod",
    connection: "qdrant",
    mode: "Collection",
    collection: "docs",
    state: "Complete",
    completed: ["2026-01-15T02:00:04.000Z", "2026-01-15T02:10:00.000Z"],
    schedule: { name: "nightly", label: "nightly" },
    backupName: "nightly-1",
  });
  // No id without creationTimestamp and uid: no candidate (an id from a status is never trusted).
  assert.deepEqual(candidatesFromBackups([{ ...qb("x"), metadata: { name: "x", namespace: "prod" } }]), []);
});
