/**
 * What must hold after any fault, once the work it interrupted has ended (every QdrantBackup, QdrantRestore
 * and CollectionRollout of the namespace terminal or waiting, nothing Running): the kill loops
 * (kill-*.test.ts), the outages and the leadership tests all check these same rules.
 *
 * - Bucket: every manifest parses, and every file it lists is in the bucket at its size; a backup
 *   directory holds its manifest and exactly the files it lists (a second run of the same backup would
 *   leave others: no duplicate backup); no directory without a manifest (a partial upload is swept or
 *   finished), no pending snapshot marker left (`_pending/`), and ListMultipartUploads is empty.
 * - Snapshots: no snapshot of the test's collections (or of the full storage) on any peer: every one a Job
 *   made was deleted, by the Job, its next attempt or the sweep.
 * - Aliases: each exists and points at an existing collection whose points are all there (the count the
 *   test expects, or the restore's manifest count): never missing, never on a half-built collection.
 * - Statuses agree with the bucket and Qdrant: a Succeeded backup's manifests exist and list what its
 *   status says; every manifest belongs to a Succeeded QdrantBackup of the namespace (none for a backup
 *   that failed or is gone); a backup has at most one Job; a Succeeded restore's target exists with the
 *   points it reports; a Promoted rollout's alias is on its collection.
 *
 * Each check returns the problems it found (empty when all holds), so a test can combine them and print
 * every one; {@link assertInvariants} runs them all.
 */
import assert from "node:assert/strict";
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { backupIdOf } from "../../src/backup/layout/backup-id.ts";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { parseManifest, type Manifest } from "../../src/backup/layout/manifest.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { s3Client } from "../../test/helpers/s3.ts";

export interface BucketScope {
  bucket: string;
  /** The location's spec.s3.prefix (the worlds use "qdrant/e2e"). */
  prefix?: string;
}

export interface ListedObject {
  key: string;
  size: number;
}

/** Every object of the bucket (root credentials), page by page. */
export async function listObjects(s3: S3Client, bucket: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The bucket's manifests, parsed, by key; an unreadable one is a problem. */
export async function readManifests(s3: S3Client, scope: BucketScope, objects?: ListedObject[]): Promise<{ manifests: Map<string, Manifest>; problems: string[] }> {
  const listed = objects ?? (await listObjects(s3, scope.bucket));
  const manifests = new Map<string, Manifest>();
  const problems: string[] = [];
  for (const b of groupListing(listed.map((o) => o.key), scope.prefix).complete) {
    const key = b.manifestKey!;
    const body = await (await s3.send(new GetObjectCommand({ Bucket: scope.bucket, Key: key }))).Body!.transformToString();
    const parsed = parseManifest(body, { key });
    if (parsed.ok) manifests.set(key, parsed.manifest);
    else problems.push(`manifest ${key} does not parse: ${parsed.error}`);
  }
  return { manifests, problems };
}

/**
 * The bucket's own rules: complete backups only, each exactly its manifest and the files it lists at their
 * sizes, no pending markers, no open multipart upload.
 */
export async function bucketProblems(scope: BucketScope, s3: S3Client = s3Client()): Promise<string[]> {
  const objects = await listObjects(s3, scope.bucket);
  const size = new Map(objects.map((o) => [o.key, o.size]));
  const grouped = groupListing(objects.map((o) => o.key), scope.prefix);
  const { manifests, problems } = await readManifests(s3, scope, objects);
  for (const b of grouped.incomplete) problems.push(`backup directory ${b.backupPrefix} has no manifest (a partial upload left): ${b.keys.join(", ")}`);
  for (const b of grouped.complete) {
    const m = manifests.get(b.manifestKey!);
    if (!m) continue;
    const listed = new Set(m.peers.map((p) => p.file.key));
    for (const p of m.peers) {
      const actual = size.get(p.file.key);
      const stored = p.file.stored?.size ?? p.file.size;
      if (actual === undefined) problems.push(`manifest ${b.manifestKey} lists ${p.file.key}, which is not in the bucket`);
      else if (actual !== stored) problems.push(`manifest ${b.manifestKey} lists ${p.file.key} at ${stored} bytes, the bucket holds ${actual}`);
    }
    for (const k of b.keys) if (k !== b.manifestKey && !listed.has(k) && !isMarker(k)) problems.push(`backup directory ${b.backupPrefix} holds ${k}, which its manifest does not list (a second run's file?)`);
  }
  for (const o of objects) if (isMarker(o.key)) problems.push(`pending snapshot marker left: ${o.key}`);
  problems.push(...(await multipartProblems(scope.bucket, s3)));
  return problems;
}

/** A pending marker (src/backup/store/pending-markers.ts): it names a snapshot a run has not deleted yet. */
const isMarker = (key: string): boolean => key.includes("/_pending/");

/** ListMultipartUploads of the whole bucket is empty. */
export async function multipartProblems(bucket: string, s3: S3Client = s3Client()): Promise<string[]> {
  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (open.Uploads ?? []).map((u) => `multipart upload left open: ${u.Key} (${u.UploadId})`);
}

export interface QdrantScope {
  /** Every peer to look at (the standalone emulator's URL, or each peer of the cluster). */
  urls: string[];
  apiKey?: string;
  /** The test's own collections (the Qdrant is shared: another test's snapshots are not ours to judge). */
  collections: string[];
  /** Also look at full-storage snapshots (`GET /snapshots`): only on a Qdrant the test has to itself. */
  fullStorage?: boolean;
}

async function qdrantGet<T>(url: string, path: string, apiKey?: string): Promise<{ status: number; result?: T }> {
  const res = await fetch(`${url}${path}`, { headers: apiKey ? { "api-key": apiKey } : {} });
  const body = (await res.json().catch(() => ({}))) as { result?: T };
  return { status: res.status, ...(body.result !== undefined ? { result: body.result } : {}) };
}

/** No snapshot of the scope's collections (nor, when asked, of the full storage) on any peer. */
export async function snapshotProblems(scope: QdrantScope): Promise<string[]> {
  const problems: string[] = [];
  for (const url of scope.urls) {
    for (const c of scope.collections) {
      const got = await qdrantGet<Array<{ name: string }>>(url, `/collections/${encodeURIComponent(c)}/snapshots`, scope.apiKey);
      if (got.status === 404) continue; // the collection is not on this peer (or gone): no snapshot either
      if (got.status !== 200) problems.push(`listing snapshots of ${c} on ${url}: HTTP ${got.status}`);
      for (const s of got.result ?? []) problems.push(`snapshot ${s.name} of ${c} left on ${url}`);
    }
    if (scope.fullStorage) {
      const got = await qdrantGet<Array<{ name: string }>>(url, "/snapshots", scope.apiKey);
      for (const s of got.result ?? []) problems.push(`full-storage snapshot ${s.name} left on ${url}`);
    }
  }
  return problems;
}

export interface AliasExpectation {
  alias: string;
  /** The collection it must point at (else any existing one). */
  collection?: string;
  /** The exact points count that collection must hold (else it must merely exist). */
  points?: number;
}

/** Each alias exists, on the collection expected, which holds all its points. */
export async function aliasProblems(url: string, expected: AliasExpectation[], apiKey?: string): Promise<string[]> {
  const problems: string[] = [];
  const all = (await qdrantGet<{ aliases: Array<{ alias_name: string; collection_name: string }> }>(url, "/aliases", apiKey)).result?.aliases ?? [];
  for (const e of expected) {
    const found = all.find((a) => a.alias_name === e.alias);
    if (!found) {
      problems.push(`alias ${e.alias} is missing`);
      continue;
    }
    if (e.collection !== undefined && found.collection_name !== e.collection) problems.push(`alias ${e.alias} points at ${found.collection_name}, not ${e.collection}`);
    problems.push(...(await collectionProblems(url, found.collection_name, e.points, apiKey, `alias ${e.alias}'s collection`)));
  }
  return problems;
}

/** `collection` exists and (when `points` is given) holds exactly that many points. */
export async function collectionProblems(url: string, collection: string, points: number | undefined, apiKey?: string, what = "collection"): Promise<string[]> {
  const info = await qdrantGet<{ points_count?: number }>(url, `/collections/${encodeURIComponent(collection)}`, apiKey);
  if (info.status === 404) return [`${what} ${collection} does not exist`];
  if (points === undefined) return [];
  const res = await fetch(`${url}/collections/${encodeURIComponent(collection)}/points/count`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(apiKey ? { "api-key": apiKey } : {}) },
    body: JSON.stringify({ exact: true }),
  });
  const count = ((await res.json()) as { result?: { count?: number } }).result?.count;
  return count === points ? [] : [`${what} ${collection} holds ${count} points, not ${points} (half-built?)`];
}

interface Listed<S> {
  items: Array<{ metadata: { name: string; uid: string; creationTimestamp: string; deletionTimestamp?: string; ownerReferences?: Array<{ uid: string; controller?: boolean }> }; spec: Record<string, unknown>; status?: S }>;
}

async function list<S>(ns: string, resource: string): Promise<Listed<S>["items"]> {
  return (JSON.parse((await kubectl(["get", resource, "-n", ns, "-o", "json"])).stdout) as Listed<S>).items;
}

interface BackupStatus {
  phase?: string;
  backupId?: string;
  collections?: Array<{ name: string; manifestKey?: string; files?: Array<{ key: string; size: number }> }>;
}
interface RestoreStatus {
  phase?: string;
  targetCollection?: string;
  pointsCount?: { expected?: number; actual?: number };
}
interface RolloutStatus {
  phase?: string;
}

/** Nothing of the namespace still at work: the invariants are about the end, not the way there. */
export async function unfinished(ns: string): Promise<string[]> {
  const running = (items: Array<{ metadata: { name: string }; status?: { phase?: string } }>, kind: string, busy: string[]) =>
    items.filter((o) => busy.includes(o.status?.phase ?? "")).map((o) => `${kind}/${o.metadata.name} is ${o.status?.phase}`);
  return [
    ...running(await list<BackupStatus>(ns, "qdrantbackups"), "QdrantBackup", ["", "Pending", "Running"]),
    ...running(await list<RestoreStatus>(ns, "qdrantrestores"), "QdrantRestore", ["", "Pending", "Running"]),
    ...running(await list<RolloutStatus>(ns, "collectionrollouts"), "CollectionRollout", ["", "Pending", "Preparing", "Validating", "AwaitingPromotion"]),
  ];
}

/**
 * The namespace's statuses against the bucket and Qdrant (see the module's TSDoc). `qdrantUrl`: where the
 * restores' targets and the rollouts' aliases are looked at.
 */
export async function statusProblems(ns: string, scope: BucketScope, qdrant: { url: string; apiKey?: string }, s3: S3Client = s3Client()): Promise<string[]> {
  const problems: string[] = [];
  const backups = await list<BackupStatus>(ns, "qdrantbackups");
  const { manifests } = await readManifests(s3, scope);
  const succeededIds = new Set(backups.filter((b) => b.status?.phase === "Succeeded").map((b) => backupIdOf(b.metadata)));
  for (const [key, m] of manifests) {
    if (!succeededIds.has(m.backupId)) problems.push(`manifest ${key} (backup ${m.backupId}) belongs to no Succeeded QdrantBackup of ${ns}`);
  }
  for (const b of backups) {
    if (b.status?.phase !== "Succeeded") continue;
    const id = backupIdOf(b.metadata);
    if (b.status.backupId !== undefined && b.status.backupId !== id) problems.push(`QdrantBackup ${b.metadata.name}: status.backupId ${b.status.backupId} is not ${id}`);
    for (const c of b.status.collections ?? []) {
      const m = c.manifestKey ? manifests.get(c.manifestKey) : undefined;
      if (!m) {
        problems.push(`QdrantBackup ${b.metadata.name} says collection ${c.name} is at ${c.manifestKey ?? "(no key)"}, no manifest there`);
        continue;
      }
      for (const f of c.files ?? []) {
        const p = m.peers.find((x) => x.file.key === f.key);
        if (!p || p.file.size !== f.size) problems.push(`QdrantBackup ${b.metadata.name}: status file ${f.key} (${f.size} bytes) is not in its manifest as such`);
      }
    }
  }
  const jobs = await list<unknown>(ns, "jobs");
  for (const b of backups) {
    const mine = jobs.filter((j) => j.metadata.ownerReferences?.some((o) => o.controller && o.uid === b.metadata.uid));
    if (mine.length > 1) problems.push(`QdrantBackup ${b.metadata.name} has ${mine.length} Jobs: ${mine.map((j) => j.metadata.name).join(", ")}`);
  }
  for (const r of await list<RestoreStatus>(ns, "qdrantrestores")) {
    if (r.status?.phase !== "Succeeded" || !r.status.targetCollection) continue;
    if ((r.spec.policy as string | undefined) === "Drill") continue;
    const expected = r.status.pointsCount?.actual ?? r.status.pointsCount?.expected;
    problems.push(...(await collectionProblems(qdrant.url, r.status.targetCollection, expected, qdrant.apiKey, `QdrantRestore ${r.metadata.name}'s target`)));
    const alias = (r.spec.target as { alias?: string } | undefined)?.alias;
    if (alias) problems.push(...(await aliasProblems(qdrant.url, [{ alias, collection: r.status.targetCollection, ...(expected !== undefined ? { points: expected } : {}) }], qdrant.apiKey)));
  }
  for (const r of await list<RolloutStatus>(ns, "collectionrollouts")) {
    if (r.status?.phase !== "Promoted") continue;
    problems.push(...(await aliasProblems(qdrant.url, [{ alias: String(r.spec.alias), collection: String(r.spec.collection) }], qdrant.apiKey)));
  }
  return problems;
}

export interface InvariantScope {
  ns: string;
  bucket: BucketScope;
  qdrant: QdrantScope;
  /** Aliases the test expects beyond those its restores and rollouts name. */
  aliases?: AliasExpectation[];
}

/** Every rule above, with every problem found in one message. Call once the namespace's work has ended. */
export async function invariantProblems(scope: InvariantScope): Promise<string[]> {
  const s3 = s3Client();
  try {
    const url = scope.qdrant.urls[0]!;
    const q = { url, ...(scope.qdrant.apiKey ? { apiKey: scope.qdrant.apiKey } : {}) };
    return [
      ...(await unfinished(scope.ns)),
      ...(await bucketProblems(scope.bucket, s3)),
      ...(await snapshotProblems(scope.qdrant)),
      ...(await aliasProblems(url, scope.aliases ?? [], scope.qdrant.apiKey)),
      ...(await statusProblems(scope.ns, scope.bucket, q, s3)),
    ];
  } finally {
    s3.destroy();
  }
}

export async function assertInvariants(scope: InvariantScope, context = ""): Promise<void> {
  const problems = await invariantProblems(scope);
  assert.deepEqual(problems, [], `${context ? `${context}: ` : ""}invariants broken:\n- ${problems.join("\n- ")}`);
}

/**
 * The scope of a world (e2e/helpers/backup-world.ts): its namespace, its bucket under the location's
 * prefix, every peer of its Qdrant (the standalone one, or each of the cluster's when `peers` is given),
 * and the collections the test made.
 */
export function worldScope(w: { ns: string; bucket: string; apiKey: string; qdrant: { url: string } }, collections: string[], opts: { peers?: string[]; aliases?: AliasExpectation[]; fullStorage?: boolean } = {}): InvariantScope {
  return {
    ns: w.ns,
    bucket: { bucket: w.bucket, prefix: "qdrant/e2e" },
    qdrant: { urls: opts.peers && opts.peers.length > 0 ? opts.peers : [w.qdrant.url], apiKey: w.apiKey, collections, ...(opts.fullStorage ? { fullStorage: true } : {}) },
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
  };
}
