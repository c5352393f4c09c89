/**
 * The objects of one scale case: N QdrantBackups under N/10 QdrantBackupSchedules, and N/100 each of
 * QdrantRestores and CollectionRollouts (at least one of each), in one namespace or spread round-robin
 * over several, every one of which settles at once without a Job and then stays quiet:
 * - a backup fails at once as LocationReadOnly (its location is ReadOnly), and a finished backup is a
 *   record: never reconciled again but for an event;
 * - a schedule ticks on 1 January only, so it creates nothing and sleeps until then;
 * - a restore is a Drill on the same 1 January cron: it writes DrillScheduled with its next drill time
 *   and is requeued for then (nothing is resolved, no bucket is listed, no Job is looked up at the
 *   apiserver, before a drill is due: bench/restore-drill-noop.ts counts it);
 * - a rollout is created with spec.abort: it is Aborted before it began (nothing made, Qdrant untouched),
 *   and an Aborted rollout is Done for good.
 * Each namespace's location names a bucket that exists (a location that cannot reach its bucket is
 * retried every 30 s, which is not the steady state of a working cluster).
 * Every object carries the run's label, so the bench lists them across namespaces with one selector
 * (other tests' objects on a shared apiserver are not counted).
 */
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { API_VERSION } from "../src/api/group.ts";
import { SCHEDULE_LABEL } from "../src/api/labels.ts";
import { COLLECTION_ROLLOUTS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES, SECRETS } from "../src/controllers/resources.ts";
import { controllerReference, type KubeObject, type ResourceType } from "../src/runtime/resource.ts";
import type { KubeClient } from "../src/runtime/rest-client.ts";
import type { EnvironmentInfo } from "../test/env/environment.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { pool, sleep } from "./scale-manager.ts";

export const NAMESPACES: ResourceType = { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false };
export const RUN_LABEL = "bench.qdrant-operator.dev/run";
/** The bucket every case's ReadOnly location names: it exists, so each location is Ready and rechecked at its healthy interval. */
export const BUCKET = "bench-scale";
/** A cron that ticks once a year: the objects that follow it create nothing during the bench. */
export const NEW_YEAR = "0 0 1 1 *";

export interface Counts {
  backups: number;
  schedules: number;
  restores: number;
  rollouts: number;
}

export function countsFor(n: number): Counts {
  return { backups: n, schedules: Math.max(1, Math.round(n / 10)), restores: Math.max(1, Math.round(n / 100)), rollouts: Math.max(1, Math.round(n / 100)) };
}

/** The controller (its metrics' name) of each kind the case creates, with how many objects it has. */
export function controllersOf(c: Counts, namespaces: number): Array<[string, number]> {
  return [
    ["qdrantbackups", c.backups],
    ["qdrantbackupschedules", c.schedules],
    ["qdrantrestores", c.restores],
    ["collectionrollouts", c.rollouts],
    ["qdrantconnections", namespaces],
    ["qdrantbackuplocations", namespaces],
  ];
}

export class ScaleWorld {
  readonly admin: KubeClient;
  readonly run: string;
  readonly namespaces: string[];
  readonly #env: EnvironmentInfo;

  constructor(admin: KubeClient, env: EnvironmentInfo, run: string, namespaces: string[]) {
    this.admin = admin;
    this.#env = env;
    this.run = run;
    this.namespaces = namespaces;
  }

  obj(kind: string, ns: string, name: string, spec: unknown, meta: { labels?: Record<string, string>; ownerReferences?: unknown[] } = {}): KubeObject {
    return { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns, ...meta, labels: { [RUN_LABEL]: this.run, ...meta.labels } }, spec } as KubeObject;
  }

  /** The namespaces (labelled with the run) and, in each, the Secret, the connection and the ReadOnly location. */
  async createNamespaces(): Promise<void> {
    const env = this.#env;
    const s3 = s3Client();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    } catch (err) {
      if ((err as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw err;
    } finally {
      s3.destroy();
    }
    await pool(this.namespaces, 8, async (ns) => {
      await this.admin.create(NAMESPACES, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { [RUN_LABEL]: this.run } } });
      await this.admin.create(SECRETS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-creds", namespace: ns }, stringData: { AWS_ACCESS_KEY_ID: env.s3.accessKeyId, AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey } });
      await this.admin.create(QDRANT_CONNECTIONS, this.obj("QdrantConnection", ns, "qdrant", { url: env.qdrant!.url, peers: { mode: "None" } }));
      await this.admin.create(
        QDRANT_BACKUP_LOCATIONS,
        this.obj("QdrantBackupLocation", ns, "s3", { accessMode: "ReadOnly", s3: { bucket: BUCKET, endpoint: env.s3.endpoint, region: env.s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } }),
      );
    });
  }

  schedule(ns: string, name: string): KubeObject {
    return this.obj("QdrantBackupSchedule", ns, name, { schedule: NEW_YEAR, timeZone: "UTC", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: ["policies"] } });
  }

  /** Creates every object of the case, 16 requests at a time; schedules first (the backups name them as owner). */
  async populate(c: Counts): Promise<void> {
    const nsOf = (i: number) => this.namespaces[i % this.namespaces.length]!;
    const schedules: KubeObject[] = new Array<KubeObject>(c.schedules);
    await pool(
      Array.from({ length: c.schedules }, (_, i) => i),
      16,
      async (i) => {
        schedules[i] = await this.admin.create(QDRANT_BACKUP_SCHEDULES, this.schedule(nsOf(i), `s${String(i).padStart(5, "0")}`));
      },
    );
    const refs = { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" } };
    const rest: Array<[ResourceType, KubeObject]> = [];
    for (let i = 0; i < c.backups; i++) {
      const s = schedules[i % c.schedules]!;
      const sName = s.metadata?.name ?? "";
      rest.push([QDRANT_BACKUPS, this.obj("QdrantBackup", s.metadata?.namespace ?? "", `${sName}-b${String(i).padStart(5, "0")}`, { ...refs, collections: { names: ["policies"] } }, { labels: { [SCHEDULE_LABEL]: sName }, ownerReferences: [controllerReference(s, true)] })]);
    }
    for (let i = 0; i < c.restores; i++) {
      const spec = { source: { latest: { locationRef: { name: "s3" }, collection: "policies" } }, target: { connectionRef: { name: "qdrant" } }, policy: "Drill", drill: { schedule: NEW_YEAR, timeZone: "UTC" } };
      rest.push([QDRANT_RESTORES, this.obj("QdrantRestore", nsOf(i), `drill-${String(i).padStart(4, "0")}`, spec)]);
    }
    for (let i = 0; i < c.rollouts; i++) {
      const spec = { connectionRef: { name: "qdrant" }, alias: `bench_${i}`, collection: `bench_${i}_green`, source: { external: {} }, abort: true };
      rest.push([COLLECTION_ROLLOUTS, this.obj("CollectionRollout", nsOf(i), `rollout-${String(i).padStart(4, "0")}`, spec)]);
    }
    await pool(rest, 16, ([rt, o]) => this.admin.create(rt, o));
  }

  /** How many of the run's objects of `rt` have no status yet (across its namespaces, one labelled list). */
  async withoutStatus(rt: ResourceType): Promise<number> {
    const list = await this.admin.list<KubeObject & { status?: Record<string, unknown> }>(rt, undefined, { labelSelector: `${RUN_LABEL}=${this.run}` });
    return list.items.filter((o) => o.status === undefined || Object.keys(o.status).length === 0).length;
  }

  /** Polls (every `pollMs`) until every object of the four kinds has a status. */
  async settled(pollMs: number): Promise<void> {
    const kinds = [QDRANT_BACKUPS, QDRANT_BACKUP_SCHEDULES, QDRANT_RESTORES, COLLECTION_ROLLOUTS];
    for (;;) {
      const left = await Promise.all(kinds.map((k) => this.withoutStatus(k)));
      if (left.every((n) => n === 0)) return;
      await sleep(pollMs);
    }
  }

  /** Deletes the namespaces and waits (up to `timeoutMs`) until they are gone; says which are left. */
  async deleteNamespaces(timeoutMs: number): Promise<string[]> {
    await pool(this.namespaces, 8, (ns) => this.admin.delete(NAMESPACES, { namespace: "", name: ns }).catch(() => undefined));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = (await this.admin.list(NAMESPACES, undefined, { labelSelector: `${RUN_LABEL}=${this.run}` })).items.map((n) => n.metadata?.name ?? "");
      if (left.length === 0 || Date.now() > deadline) return left;
      await sleep(2000);
    }
  }
}
