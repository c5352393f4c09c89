/**
 * What the QdrantRestore end-to-end tests share, on top of the backup world (e2e/helpers/backup-world.ts,
 * imported, never copied): a QdrantRestore object builder and readers, the backup a restore starts from,
 * the Qdrant facts a restore is judged by (collection names, aliases, a collection's cluster info), the
 * restore Jobs of a namespace, the manager's /metrics, and SIGKILL of a Job pod's process (the node agent
 * runs each container as a local process and reports its pid as the containerID `local://<pid>`).
 *
 * Readiness is always a status, a Qdrant answer or a fault's `fired` count, polled with `eventually`.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { API_VERSION } from "../../src/api/group.ts";
import { condition, getExisting, waitForObject, waitForPhaseOf, waitForReadyFalse } from "../../test/helpers/kube-objects.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";
import type { ManagerProcess } from "../../test/helpers/manager.ts";
import { eventually } from "../../test/helpers/testenv.ts";
import { apply, backupObj, waitForPhase, type Backup, type Cond, type World } from "./backup-world.ts";

export interface Restore {
  metadata: { name: string; uid: string; generation?: number; creationTimestamp: string };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Cond[];
    phase?: string;
    backupId?: string;
    targetCollection?: string;
    startTime?: string;
    completionTime?: string;
    durationSeconds?: number;
    pointsCount?: { expected?: number; actual?: number };
    restoreCount?: number;
    lastRestoreTime?: string;
    lastVerifiedTime?: string;
    jobName?: string;
    attempt?: number;
    jobCount?: number;
  };
}

/** A QdrantRestore into connection "qdrant" (the world's), from `source`; `spec` adds or overrides fields. */
export function restoreObj(name: string, source: Record<string, unknown>, spec: Record<string, unknown> = {}): object {
  const { target, ...rest } = spec;
  return {
    apiVersion: API_VERSION,
    kind: "QdrantRestore",
    metadata: { name },
    spec: { source, target: { connectionRef: { name: "qdrant" }, ...(target as object | undefined) }, ...rest },
  };
}

export const getRestore = (ns: string, name: string): Promise<Restore> => getExisting<Restore>(ns, "qdrantrestore", name);
export const restoreCondition = (r: Restore, type: string): Cond | undefined => condition(r, type);

/** Polls the restore until `accept` returns true for it; the message names `what` and the last status. */
export function waitForRestore(ns: string, name: string, what: string, accept: (r: Restore) => boolean, timeoutMs = 120_000): Promise<Restore> {
  return waitForObject(ns, "qdrantrestore", name, what, accept, timeoutMs);
}

/** Waits for `phase`, failing at once when the restore settles in another terminal phase. */
export function waitForRestorePhase(ns: string, name: string, phase: string, timeoutMs = 120_000): Promise<Restore> {
  return waitForPhaseOf<Restore>(ns, "qdrantrestore", name, phase, (p) => p === "Succeeded" || p === "Failed", timeoutMs);
}

/** Waits until the Ready condition is False with `reason` (a refusal), and returns the restore. */
export function waitForRefusal(ns: string, name: string, reason: string, timeoutMs = 90_000): Promise<Restore> {
  return waitForReadyFalse<Restore>(ns, "qdrantrestore", name, reason, timeoutMs);
}

export interface BackedUp {
  name: string;
  backup: Backup;
  backupId: string;
  manifestKey: string;
  /** The snapshot files the backup's status lists (one per peer). */
  files: Array<{ peerId?: string; key: string; sha256: string; size: number }>;
}

/** A QdrantBackup of the world's collection (or what `spec` says), waited for until Succeeded. */
export async function backedUp(w: World, name = "b", spec: Record<string, unknown> = {}): Promise<BackedUp> {
  await apply(w.ns, [backupObj(name, { collections: { names: [w.collection] }, ...spec })]);
  const backup = await waitForPhase(w.ns, name, "Succeeded", 150_000);
  const col = backup.status?.collections?.[0];
  const status = backup.status as NonNullable<Backup["status"]> & { manifestKey?: string; files?: BackedUp["files"] };
  return {
    name,
    backup,
    backupId: backup.status?.backupId ?? "",
    manifestKey: col?.manifestKey ?? status.manifestKey ?? "",
    files: col?.files ?? status.files ?? [],
  };
}

/** A small REST call to a Qdrant; the parsed `result` (throws on a non-2xx answer). */
export async function qdrantCall<T>(url: string, path: string, apiKey?: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: init.method ?? "GET",
    headers: { ...(apiKey ? { "api-key": apiKey } : {}), ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${text}`);
  return (JSON.parse(text) as { result: T }).result;
}

export const collectionNames = async (url: string, apiKey?: string): Promise<string[]> =>
  (await qdrantCall<{ collections: Array<{ name: string }> }>(url, "/collections", apiKey)).collections.map((c) => c.name).sort();

export const collectionExists = async (url: string, name: string, apiKey?: string): Promise<boolean> =>
  (await collectionNames(url, apiKey)).includes(name);

export const aliases = async (url: string, apiKey?: string): Promise<Array<{ alias_name: string; collection_name: string }>> =>
  (await qdrantCall<{ aliases: Array<{ alias_name: string; collection_name: string }> }>(url, "/aliases", apiKey)).aliases;

export async function createAlias(url: string, alias: string, collection: string, apiKey?: string): Promise<void> {
  await qdrantCall(url, "/collections/aliases", apiKey, { method: "POST", body: { actions: [{ create_alias: { alias_name: alias, collection_name: collection } }] } });
}

export async function deleteCollection(url: string, name: string, apiKey?: string): Promise<void> {
  await qdrantCall(url, `/collections/${name}`, apiKey, { method: "DELETE" });
}

/** Deletes `names` (collections) and `aliasNames` when the test ends: what a restore made on a shared Qdrant. */
export function cleanupOnQdrant(t: TestContext, url: string, apiKey: string | undefined, names: string[], aliasNames: string[] = []): void {
  t.after(async () => {
    for (const a of aliasNames) await qdrantCall(url, "/collections/aliases", apiKey, { method: "POST", body: { actions: [{ delete_alias: { alias_name: a } }] } }).catch(() => undefined);
    for (const n of names) await deleteCollection(url, n, apiKey).catch(() => undefined);
  });
}

export interface LocalShard {
  shard_id: number;
  points_count: number;
  state: string;
}
export interface ClusterInfo {
  peer_id: number;
  shard_count: number;
  local_shards: LocalShard[];
  remote_shards: Array<{ shard_id: number; peer_id: number; state: string }>;
}
export const collectionCluster = (url: string, collection: string, apiKey?: string) => qdrantCall<ClusterInfo>(url, `/collections/${collection}/cluster`, apiKey);

export interface JobObj {
  metadata: { name: string; uid: string; creationTimestamp: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }> };
  spec: { backoffLimit?: number; template: { spec: { containers: Array<{ name: string; image: string; command?: string[]; args?: string[]; env?: Array<{ name: string; value?: string; valueFrom?: unknown }> }> } } };
  status?: { succeeded?: number; failed?: number; active?: number };
}

/** The namespace's Jobs named `prefix`…, in name order (numbers in names compared as numbers: -2 before -10). */
export async function jobsNamed(ns: string, prefix: string): Promise<JobObj[]> {
  const items = (JSON.parse((await kubectl(["get", "jobs", "-n", ns, "-o", "json"])).stdout) as { items: JobObj[] }).items;
  return items.filter((j) => j.metadata.name.startsWith(prefix)).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, "en", { numeric: true }));
}

/** The namespace's Jobs named restore-…, oldest first. */
export const restoreJobs = (ns: string): Promise<JobObj[]> => jobsNamed(ns, "restore-");

/** The plan the controller handed a restore Job (RESTORE_PLAN). */
export function jobPlan(job: JobObj): Record<string, unknown> {
  const value = job.spec.template.spec.containers[0]?.env?.find((e) => e.name === "RESTORE_PLAN")?.value;
  assert.ok(value, `Job ${job.metadata.name} has RESTORE_PLAN`);
  return JSON.parse(value) as Record<string, unknown>;
}

/** Events about `name` in `ns`, as "reason: note" lines. */
export async function eventsOf(ns: string, name: string): Promise<string[]> {
  const out = JSON.parse((await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout) as { items: Array<{ reason?: string; note?: string }> };
  return out.items.map((e) => `${e.reason ?? ""}: ${e.note ?? ""}`);
}

/** The manager's /metrics text (its address is in its log, as e2e/backup.test.ts reads it). */
export async function managerMetrics(manager: ManagerProcess): Promise<string> {
  const address = /"address":"([^"]+)","msg":"Starting metrics and health server"/.exec(await manager.log())?.[1];
  assert.ok(address, "the manager logged its metrics address");
  return (await fetch(`http://${address}/metrics`)).text();
}

/**
 * SIGKILLs the process of the running container of `jobName`'s pod, as OOM or a node's kernel would:
 * the node agent reports its pid as `local://<pid>`; the rest of its process group goes with it.
 * Returns the pod's name.
 */
export async function killJobProcess(ns: string, jobName: string): Promise<string> {
  const { pod, pid } = await eventually(`the running pod of Job ${jobName}`, async () => {
    const pods = JSON.parse((await kubectl(["get", "pods", "-n", ns, "-l", `job-name=${jobName}`, "-o", "json"])).stdout) as {
      items: Array<{ metadata: { name: string }; status?: { containerStatuses?: Array<{ containerID?: string; state?: { running?: unknown } }> } }>;
    };
    for (const p of pods.items) {
      const running = p.status?.containerStatuses?.find((c) => c.state?.running && c.containerID?.startsWith("local://"));
      if (running) return { pod: p.metadata.name, pid: Number(running.containerID!.slice("local://".length)) };
    }
    return undefined;
  });
  process.kill(pid, "SIGKILL");
  return pod;
}
