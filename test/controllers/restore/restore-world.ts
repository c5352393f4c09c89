/**
 * What the QdrantRestore controller's tests against the real manager share: a namespace watched by the
 * manager (as its generated ServiceAccount), a seeded 20-point collection of its own on the environment's
 * Qdrant, a bucket with a one-bucket MinIO user, connection "qdrant", location "s3", and a QdrantBackup
 * "b1" of the collection, succeeded.
 */
import type { TestContext } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../../../src/api/group.ts";
import type { QdrantApi } from "../../../src/qdrant/client.ts";
import { ensureCrds } from "../../helpers/crds.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { startManager, type ManagerProcess } from "../../helpers/manager.ts";
import { apiKeyForSecret, qdrantApi, qdrantUnderTest, useCollection } from "../../helpers/qdrant.ts";
import { bucketOnlyUser, useBucket } from "../../helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../../helpers/testenv.ts";

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
export interface Obj {
  metadata: { name: string; uid: string; generation?: number; finalizers?: string[] };
  status?: {
    phase?: string;
    conditions?: Cond[];
    backupId?: string;
    targetCollection?: string;
    jobName?: string;
    jobCount?: number;
    attempt?: number;
    restoreCount?: number;
    lastRestoreTime?: string;
    lastVerifiedTime?: string;
    nextScheduleTime?: string;
    startTime?: string;
    completionTime?: string;
    durationSeconds?: number;
    pointsCount?: { expected?: number; actual?: number };
    observedGeneration?: number;
  };
}

export const apply = (ns: string, objects: object[]) => kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));

export async function getObj(ns: string, resource: string, name: string): Promise<Obj | undefined> {
  try {
    return JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as Obj;
  } catch (err) {
    if (/NotFound|not found/.test((err as { stderr?: string }).stderr ?? "")) return undefined;
    throw err;
  }
}

export const condition = (o: Obj | undefined, type: string) => o?.status?.conditions?.find((c) => c.type === type);

/** Waits until `probe` holds of the object; `ended` phases other than the wanted end the wait at once. */
export function waitFor(ns: string, resource: string, name: string, what: string, probe: (o: Obj) => boolean, timeoutMs = 180_000): Promise<Obj> {
  return eventually(`${resource}/${name} ${what}`, async () => {
    const o = await getObj(ns, resource, name);
    return o && probe(o) ? o : undefined;
  }, timeoutMs);
}

export async function events(ns: string, name: string): Promise<string> {
  return (await kubectl(["get", "-n", ns, "events.events.k8s.io", "--field-selector", `regarding.name=${name}`, "-o", "jsonpath={range .items[*]}{.reason}: {.note}{\"\\n\"}{end}"])).stdout;
}

export interface RestoreWorld {
  ns: string;
  collection: string;
  api: QdrantApi;
  manager: ManagerProcess;
  backupId: string;
  /** The location's bucket (prefix LOCATION_PREFIX). */
  bucket: string;
}

/** The location "s3"'s prefix in its bucket. */
export const LOCATION_PREFIX = "qdrant/restore";

/** `managerEnv`: extra environment for the manager (e.g. a clock offset that puts a drill's tick in the past). */
export async function restoreWorld(t: TestContext, prefix: string, opts: { managerEnv?: Record<string, string> } = {}): Promise<RestoreWorld> {
  await ensureCrds();
  const collection = await useCollection(t, "policies");
  const ns = await useNamespace(t, prefix);
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  const manager = await startManager(t, [ns], [], opts.managerEnv ? { env: opts.managerEnv } : {});
  await apply(ns, [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "qdrant-key" }, stringData: { "api-key": apiKeyForSecret() } },
    { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds" }, stringData: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey } },
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupLocation",
      metadata: { name: "s3" },
      spec: { s3: { bucket, prefix: LOCATION_PREFIX, endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
    },
    { apiVersion: API_VERSION, kind: "QdrantBackup", metadata: { name: "b1" }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [collection] } } },
  ]);
  const backup = await waitFor(ns, "qdrantbackup", "b1", "Succeeded", (o) => {
    if (o.status?.phase === "Failed") throw new Error(`the backup failed: ${JSON.stringify(o.status)}`);
    return o.status?.phase === "Succeeded";
  });
  return { ns, collection, api: qdrantApi(), manager, backupId: backup.status?.backupId ?? "", bucket };
}
