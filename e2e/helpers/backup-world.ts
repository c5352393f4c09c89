/**
 * What the QdrantBackup end-to-end tests share: a "world" (a namespace, a seeded collection of its own on
 * the environment's Qdrant, a bucket with a one-bucket MinIO user, their Secrets, a QdrantConnection "qdrant", a QdrantBackupLocation
 * "s3" and the real manager process), kubectl readers for backups and Jobs, and the check that a backup
 * in the bucket restores the same points.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../../src/api/group.ts";
import { parseManifest } from "../../src/backup/layout/manifest.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { startEmulator, type EmulatorHandle } from "../../test/emulator/index.ts";
import { ensureCrds } from "../../test/helpers/crds.ts";
import { apply, getJson, type Cond } from "../../test/helpers/kube-objects.ts";
import { objectBytes, uploadAndRecover } from "../../test/jobs/backup-harness.ts";
import { startManager, type ManagerProcess } from "../../test/helpers/manager.ts";
import { allPoints as sharedAllPoints, apiKeyForSecret, needsDistributedQdrant, needsEmulatorFaults, qdrantUnderTest, seedPoints, uniqueName, useCollection } from "../../test/helpers/qdrant.ts";
import { bucketOnlyUser, s3Client, useBucket, useLockBucket } from "../../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../../test/helpers/testenv.ts";

export { apply, condition, getJson, type Cond } from "../../test/helpers/kube-objects.ts";

export interface Backup {
  metadata: { name: string; uid: string; creationTimestamp: string; finalizers?: string[] };
  status?: {
    phase?: string;
    conditions?: Cond[];
    backupId?: string;
    jobName?: string;
    startTime?: string;
    completionTime?: string;
    sizeBytes?: number;
    collections?: Array<{ name: string; manifestKey?: string; pointsCount?: number; files?: Array<{ peerId?: string; key: string; sha256: string; size: number }> }>;
    failure?: { reason: string; message: string };
  };
}
export interface Job {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }> };
  spec: {
    backoffLimit: number;
    ttlSecondsAfterFinished?: number;
    podFailurePolicy?: unknown;
    template: { spec: { restartPolicy: string; automountServiceAccountToken?: boolean; containers: Array<{ name: string; image: string; args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: unknown }> }> } };
  };
}

export const OPERATOR_IMAGE = "ghcr.io/qdrant-operator/qdrant-operator:dev";

export const getBackup = async (ns: string, name: string) => (await getJson<Backup>(ns, "qdrantbackup", name))!;

export async function waitForPhase(ns: string, name: string, phase: string, timeoutMs = 90_000): Promise<Backup> {
  return eventually(`qdrantbackup/${name} phase ${phase}`, async () => {
    const b = await getBackup(ns, name);
    if (b.status?.phase !== phase && (b.status?.phase === "Succeeded" || b.status?.phase === "Failed")) {
      throw new Error(`ended ${b.status.phase}: ${JSON.stringify(b.status)}`);
    }
    return b.status?.phase === phase ? b : undefined;
  }, timeoutMs);
}

export const secret = (name: string, data: Record<string, string>) => ({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data });
export const backupObj = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackup",
  metadata: { name },
  spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] }, ...spec },
});

export interface World {
  ns: string;
  bucket: string;
  /** The key in Secret "qdrant-key": the Qdrant's own, or (when it needs none) a random one. */
  apiKey: string;
  s3AccessKeyId: string;
  s3SecretKey: string;
  /** The collection the world seeded with 20 points, unique on the shared Qdrant ("policies" on an own emulator). */
  collection: string;
  /** The Qdrant that connection "qdrant" names (the first peer when distributed); `adminUrl` only on the environment's emulator. */
  qdrant: { url: string; adminUrl?: string };
  manager: ManagerProcess;
}

export interface WorldOptions {
  locationSpec?: Record<string, unknown>;
  /**
   * Runs after the namespace and the collection exist and before the manager starts, and returns extra
   * environment for it (e.g. a clock offset computed from an object it created).
   */
  managerEnv?: (ns: string, collection: string) => Promise<Record<string, string>>;
  /**
   * Why this test needs an emulator of its own (one that requires its API key, or whose whole disk,
   * metrics or fault list the test reads): the world then starts one, seeded with "policies", and the test
   * is skipped, saying why, when Qdrant is real (QDRANT_URL).
   */
  ownEmulator?: string;
  /**
   * The world on the distributed Qdrant (the environment's 3-peer cluster, or QDRANT_PEERS): its collection
   * has a shard per peer, and connection "qdrant" lists the peers (`peers.mode: Static`). Skipped when the
   * environment has no distributed Qdrant.
   */
  distributed?: boolean;
  /** The bucket is created with S3 Object Lock enabled (and so versioned). */
  lockBucket?: boolean;
}

/**
 * A namespace, a Qdrant collection with 20 points, a bucket with a one-bucket MinIO user, their Secrets
 * ("qdrant-key", "s3-creds"), a QdrantConnection "qdrant", a location "s3" and the manager.
 *
 * The Qdrant is the environment's (the emulator `npm test` starts, or QDRANT_URL's real one), shared by
 * every test at once, so the collection has a name of its own (`w.collection`; name it in the backup's
 * `collections`) and is deleted when the test ends; it is seeded through the operator's Qdrant adapter.
 */
export async function world(t: TestContext, prefix: string, opts: WorldOptions & { ownEmulator: string }): Promise<World & { qdrant: EmulatorHandle }>;
export async function world(t: TestContext, prefix: string, opts?: WorldOptions): Promise<World>;
export async function world(t: TestContext, prefix: string, opts: WorldOptions = {}): Promise<World> {
  await ensureCrds();
  let qdrant: World["qdrant"];
  let apiKey: string;
  let collection: string;
  let peers: Record<string, unknown> = { mode: "None" };
  if (opts.distributed) {
    const urls = needsDistributedQdrant(t);
    const adminUrl = testEnv().qdrant?.clusterAdminUrl;
    qdrant = { url: urls[0]!, ...(adminUrl ? { adminUrl } : {}) };
    apiKey = apiKeyForSecret();
    collection = await useCollection(t, "policies", { url: urls[0]!, config: { vectors: { size: 4, distance: "Cosine" }, shard_number: urls.length } });
    peers = { mode: "Static", urls };
  } else if (opts.ownEmulator !== undefined) {
    needsEmulatorFaults(t, opts.ownEmulator);
    apiKey = `qk-${randomBytes(12).toString("hex")}`;
    const emulator = await startEmulator({ apiKey });
    t.after(() => emulator.stop());
    qdrant = emulator;
    collection = "policies";
    const api = new QdrantApi({ url: emulator.url, apiKey, timeoutMs: 30_000 });
    await api.createCollection(collection, { vectors: { size: 4, distance: "Cosine" } });
    await api.upsert(collection, seedPoints(20));
  } else {
    const shared = qdrantUnderTest();
    const adminUrl = testEnv().qdrant?.adminUrl;
    qdrant = { url: shared.url, ...(adminUrl ? { adminUrl } : {}) };
    apiKey = apiKeyForSecret();
    collection = await useCollection(t, "policies");
  }
  const ns = await useNamespace(t, prefix);
  const bucket = opts.lockBucket ? await useLockBucket(t) : await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  const manager = await startManager(t, [ns], [], opts.managerEnv ? { env: await opts.managerEnv(ns, collection) } : {});
  await apply(ns, [
    secret("qdrant-key", { "api-key": apiKey }),
    secret("s3-creds", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrant.url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } }, ...opts.locationSpec },
    },
  ]);
  return { ns, bucket, apiKey, s3AccessKeyId: creds.accessKeyId, s3SecretKey: creds.secretAccessKey, collection, qdrant, manager };
}

/** Every point of a collection, in id order, with payloads and vectors. */
export function allPoints(url: string, collection: string, apiKey?: string): Promise<unknown[]> {
  return sharedAllPoints(collection, { url, ...(apiKey ? { apiKey } : {}) });
}

/**
 * The manifest at `key` is valid and names the world's 20-point collection; each file's sha256 and size are
 * those of the bytes in the bucket; and those bytes, uploaded into a fresh collection on the same Qdrant,
 * restore the same points (a real Qdrant's snapshot restores into a real Qdrant, never the emulator).
 */
export async function assertRestorable(t: TestContext, w: World, key: string): Promise<void> {
  const s3 = s3Client();
  t.after(() => s3.destroy());
  const parsed = parseManifest(await (await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: key }))).Body!.transformToString(), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  assert.equal(parsed.manifest.collection?.name, w.collection);
  assert.equal(parsed.manifest.collection?.pointsCount, 20);
  // The manifest's sha256 is that of the bytes in the bucket, and those bytes restore the same points.
  const file = parsed.manifest.peers[0]!.file;
  const bytes = await objectBytes(s3, w.bucket, file.key);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), file.sha256);
  assert.equal(bytes.length, file.size);
  const restored = uniqueName("restored");
  const api = new QdrantApi({ url: w.qdrant.url, apiKey: w.apiKey, timeoutMs: 30_000 });
  t.after(() => api.deleteCollection(restored).then(() => undefined));
  await uploadAndRecover(w.qdrant.url, restored, bytes, file.sha256, w.apiKey);
  const original = await allPoints(w.qdrant.url, w.collection, w.apiKey);
  assert.equal(original.length, 20);
  assert.deepEqual(await allPoints(w.qdrant.url, restored, w.apiKey), original);
}
