/**
 * The world the source resolver's tests run in: a bucket of the environment's MinIO, backups written
 * into it as the backup Job writes them (snapshot objects, then a manifest checked by serializeManifest),
 * and an apiserver in memory (test/runtime/fixtures/memory-api.ts) holding the location, its credentials
 * Secret and any QdrantBackups, watched by real informers.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { TestContext } from "node:test";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { pino } from "pino";
import { backupId } from "../../../src/backup/layout/backup-id.ts";
import { MANIFEST_VERSION, serializeManifest, type Manifest, type ManifestPeer } from "../../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../../src/backup/layout/object-keys.ts";
import type { ClusterBackup } from "../../../src/backup/select/from-backups.ts";
import type { RestoreObject } from "../../../src/controllers/restore/types.ts";
import { QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUPS, SECRETS } from "../../../src/controllers/resources.ts";
import type { OperatorContext } from "../../../src/controllers/shared/context.ts";
import type { BackupLocationObject } from "../../../src/controllers/shared/resolve-location.ts";
import { ManifestCache } from "../../../src/controllers/restore/source/manifest-cache.ts";
import { sourceResolver, type SourceResolver } from "../../../src/controllers/restore/source/resolve-source.ts";
import { realClock } from "../../../src/runtime/clock.ts";
import { EventRecorder } from "../../../src/runtime/events.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import { Redactor } from "../../../src/runtime/redact.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { StatusWriter } from "../../../src/runtime/status-writer.ts";
import { eventually } from "../../helpers/eventually.ts";
import { s3Client, useBucket } from "../../helpers/s3.ts";
import { testEnv } from "../../helpers/testenv.ts";
import { MemoryApi } from "../../runtime/fixtures/memory-api.ts";

export const NS = "dr";
export const V1 = "qdrant-operator.dev/v1alpha1";
export const PREFIX = "qdrant/backups";

export interface World {
  api: MemoryApi;
  s3: S3Client;
  bucket: string;
  manifests: ManifestCache;
  resolver: SourceResolver;
  backups: Informer<ClusterBackup>;
  /** Adds a QdrantBackup to the apiserver and waits until the informer has it. */
  addBackup(b: ClusterBackup): Promise<void>;
}

/** A bucket, a location `s3` (prefix PREFIX) in NS with its credentials Secret, informers and a resolver. */
/** encryption: the location's spec.encryption.keySecretRef, and the key file its Secret holds (undefined: no Secret). */
export async function useWorld(t: TestContext, opts: { bucket?: string; secret?: boolean; encryption?: { keyFile?: string } } = {}): Promise<World> {
  const env = testEnv().s3;
  const bucket = opts.bucket ?? (await useBucket(t));
  const api = new MemoryApi();
  if (opts.secret !== false) {
    const data = { AWS_ACCESS_KEY_ID: Buffer.from(env.accessKeyId).toString("base64"), AWS_SECRET_ACCESS_KEY: Buffer.from(env.secretAccessKey).toString("base64") };
    api.seed(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds", namespace: NS }, data });
  }
  api.seed<BackupLocationObject>(QDRANT_BACKUP_LOCATIONS, {
    apiVersion: V1,
    kind: "QdrantBackupLocation",
    metadata: { name: "s3", namespace: NS },
    spec: {
      s3: { bucket, prefix: PREFIX, region: env.region, endpoint: env.endpoint, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } },
      ...(opts.encryption ? { encryption: { keySecretRef: { name: "age-key", key: "keys.txt" } } } : {}),
    },
  });
  if (opts.encryption?.keyFile !== undefined) {
    api.seed(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "age-key", namespace: NS }, data: { "keys.txt": Buffer.from(opts.encryption.keyFile).toString("base64") } });
  }
  const logger = pino({ level: "silent" });
  const informer = <T extends KubeObject>(rt: ResourceType) => new Informer<T>({ resource: rt, listerWatcher: api.listerWatcher<T>(rt), logger });
  const backups = informer<ClusterBackup>(QDRANT_BACKUPS);
  const locations = informer<BackupLocationObject>(QDRANT_BACKUP_LOCATIONS);
  backups.start();
  locations.start();
  t.after(async () => {
    await backups.stop();
    await locations.stop();
  });
  await eventually("informers synced", () => (backups.hasSynced() && locations.hasSynced() ? true : undefined));
  const redactor = new Redactor();
  const events = new EventRecorder({ client: api, reportingController: "test", reportingInstance: "test-0", logger, redactor });
  const ctx: OperatorContext = { client: api, status: new StatusWriter(api), events, redactor, clock: realClock, logger, workers: 1 };
  const manifests = new ManifestCache();
  const s3 = s3Client();
  t.after(() => s3.destroy());
  return {
    api,
    s3,
    bucket,
    manifests,
    resolver: sourceResolver(ctx, { backups, locations }, { manifests }),
    backups,
    addBackup: async (b) => {
      api.seed(QDRANT_BACKUPS, b);
      await eventually("the informer sees the backup", () => backups.cache.get({ namespace: b.metadata?.namespace ?? "", name: b.metadata?.name ?? "" }));
    },
  };
}

export interface PeerSpec {
  peerId: string;
  shardIds?: number[];
  /** FullStorage: per collection, the shards on this peer. */
  collections?: Array<{ name: string; shardIds: number[] }>;
  bytes?: number;
  /** Write an object of this size instead (a truncated copy); null: write none. */
  objectBytes?: number | null;
  compression?: "zstd";
  /** The manifest's encryption.scheme (age-v1, or one the operator does not know); the object is written as it is. */
  encryption?: string;
}

export interface BackupSpec {
  namespace?: string;
  connection?: string;
  /** Collection mode: this collection; else FullStorage with `storage`. */
  collection?: string;
  storage?: Array<{ name: string; pointsCount?: number }>;
  created: string;
  completed: string;
  uid?: string;
  pointsCount?: number;
  scheduleName?: string;
  backupName?: string;
  peers?: PeerSpec[];
  /** Write these bytes as the manifest instead of the real one. */
  corruptManifest?: string;
}

export interface WrittenBackup {
  backupId: string;
  uid: string;
  manifestKey: string;
  manifest: Manifest;
  parts: BackupKeyParts;
}

/** Writes a backup as the backup Job does: each peer's snapshot object, then its manifest. */
export async function writeBackup(w: World, spec: BackupSpec): Promise<WrittenBackup> {
  const uid = spec.uid ?? randomUUID();
  const id = backupId(new Date(spec.created), uid);
  const namespace = spec.namespace ?? NS;
  const connection = spec.connection ?? "qdrant";
  const scope = spec.collection !== undefined ? { collection: spec.collection } : { fullStorage: true as const };
  const parts: BackupKeyParts = { prefix: PREFIX, namespace, connection, backupId: id, ...scope };
  const peers: ManifestPeer[] = [];
  for (const p of spec.peers ?? [{ peerId: "1", shardIds: [0] }]) {
    const bytes = randomBytes(p.bytes ?? 1024);
    const key = snapshotKey(parts, p.peerId, { ...(p.compression ? { compression: p.compression } : {}), ...(p.encryption ? { encrypted: true } : {}) });
    if (p.objectBytes !== null) await put(w, key, p.objectBytes !== undefined ? bytes.subarray(0, p.objectBytes) : bytes);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    peers.push({
      peerId: p.peerId,
      ...(spec.collection !== undefined ? { shardIds: p.shardIds ?? [0] } : { collections: p.collections ?? [] }),
      file: {
        key,
        size: bytes.length,
        sha256,
        ...(p.compression ? { compression: { algorithm: p.compression } } : {}),
        ...(p.encryption ? { encryption: { scheme: p.encryption, keyRef: "age-key/keys.txt" } } : {}),
        ...(p.compression || p.encryption ? { stored: { size: p.objectBytes ?? bytes.length, sha256 } } : {}),
      },
    });
  }
  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    backupId: id,
    mode: spec.collection !== undefined ? "Collection" : "FullStorage",
    source: { namespace, connection, backupName: spec.backupName ?? `backup-${uid.slice(0, 8)}`, backupUid: uid, ...(spec.scheduleName ? { scheduleName: spec.scheduleName } : {}) },
    operator: { version: "0.1.0-test" },
    qdrant: { version: "1.15.0", distributed: peers.length > 1 },
    ...(spec.collection !== undefined
      ? { collection: { name: spec.collection, pointsCount: spec.pointsCount ?? 10, aliases: [], config: {} } }
      : { storage: { collections: (spec.storage ?? []).map((c) => ({ name: c.name, ...(c.pointsCount !== undefined ? { pointsCount: c.pointsCount } : {}), aliases: [] })) } }),
    peers,
    timings: { startTime: spec.created, completionTime: spec.completed },
  };
  const key = manifestKey(parts);
  await put(w, key, spec.corruptManifest ?? serializeManifest(manifest, key));
  return { backupId: id, uid, manifestKey: key, manifest, parts };
}

async function put(w: World, key: string, body: string | Uint8Array): Promise<void> {
  await w.s3.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: body }));
}

/** The QdrantBackup that made `b` (Succeeded), as the cluster holds it. */
export function clusterBackup(b: WrittenBackup, name: string, opts: { created: string; completed: string; collections?: string[]; schedule?: string; fullStorage?: boolean; phase?: "Succeeded" | "Running" | "Failed" }): ClusterBackup {
  return {
    apiVersion: V1,
    kind: "QdrantBackup",
    metadata: {
      name,
      namespace: b.parts.namespace,
      uid: b.uid,
      creationTimestamp: opts.created,
      ...(opts.schedule ? { ownerReferences: [{ apiVersion: V1, kind: "QdrantBackupSchedule", name: opts.schedule, uid: randomUUID(), controller: true }] } : {}),
    },
    spec: {
      connectionRef: { name: b.parts.connection },
      locationRef: { name: "s3" },
      ...(opts.fullStorage ? { mode: "FullStorage" as const } : { collections: { names: opts.collections ?? [] } }),
    },
    status: { phase: opts.phase ?? "Succeeded", startTime: opts.created, completionTime: opts.completed, ...(opts.collections ? { collections: opts.collections.map((c) => ({ name: c })) } : {}) },
  };
}

/** A QdrantRestore in NS with `source` (and spec.sourceCollection). */
export function restoreOf(name: string, source: RestoreObject["spec"]["source"], sourceCollection?: string): RestoreObject {
  return {
    apiVersion: V1,
    kind: "QdrantRestore",
    metadata: { name, namespace: NS, uid: randomUUID() },
    spec: { source, ...(sourceCollection !== undefined ? { sourceCollection } : {}), target: { connectionRef: { name: "qdrant" } } },
  };
}
