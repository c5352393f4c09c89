/**
 * Helpers for the `job restore` tests: a real backup made by the backup Job (so the restore reads a real
 * manifest and real objects), a restore plan built from that manifest as the controller builds it, and
 * the restore command run as a real child process (so SIGKILL and SIGTERM are the real thing), with its
 * result file kept until the process is gone.
 */
import { createHash, randomUUID } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { encodeSnapshot } from "../../src/backup/codec/encode.ts";
import type { EncodeSettings } from "../../src/backup/codec/types.ts";
import assert from "node:assert/strict";
import { parseManifest, type Manifest } from "../../src/backup/layout/manifest.ts";
import type { BackupJobPlan, BackupJobSuccess } from "../../src/jobs/backup/contract.ts";
import type { RestoreJobPlan, RestoreJobResult, RestorePeerFile } from "../../src/jobs/restore/contract.ts";
import { chunksOf, collect } from "../backup/codec-fixtures.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import type { TestContext } from "node:test";
import { spawnJob, type JobProcessRun, type StartedJobProcess } from "../helpers/job-process.ts";
import { s3Client, useBucket } from "../helpers/s3.ts";
import { eventually, testEnv } from "../helpers/testenv.ts";
import { fullStoragePlan, jobSecrets, makePlan, objectBytes, runJob } from "./backup-harness.ts";

export { describeRun } from "../helpers/job-process.ts";

/** A bucket for a whole suite (one backup shared by its tests): `remove` in the suite's `after`. */
export async function suiteBucket(): Promise<{ name: string; remove: () => Promise<void> }> {
  const undo: Array<() => unknown> = [];
  const name = await useBucket({ after: (fn: () => unknown) => void undo.push(fn) } as unknown as TestContext);
  return { name, remove: async () => void (await Promise.all(undo.map((f) => f()))) };
}

export interface Backup {
  manifest: Manifest;
  plan: BackupJobPlan;
}

/** Backs up `collection` of the Qdrant at `url` with the backup Job; the manifest it wrote. */
export async function backUp(url: string, bucket: string, collection: string): Promise<Backup> {
  const plan = makePlan(url, bucket, { collections: { names: [collection] } });
  return finish(plan, bucket, (ok) => ok.collections?.[0]?.manifestKey);
}

/** A FullStorage backup of the Qdrant at `url`. */
export async function backUpStorage(url: string, bucket: string): Promise<Backup> {
  const plan = fullStoragePlan(url, bucket);
  return finish(plan, bucket, (ok) => ok.manifestKey);
}

async function finish(plan: BackupJobPlan, bucket: string, keyOf: (ok: BackupJobSuccess) => string | undefined): Promise<Backup> {
  const run = await runJob(plan);
  assert.equal(run.code, 0, `backup: ${run.resultText}\n${run.stdout}${run.stderr}`);
  const key = keyOf(run.result as BackupJobSuccess);
  assert.ok(key, run.resultText);
  const parsed = parseManifest(await objectBytes(s3Client(), bucket, key), { key });
  assert.ok(parsed.ok, parsed.ok ? "" : parsed.error);
  return { manifest: parsed.manifest, plan };
}

export interface RestoreOver {
  target?: string;
  source?: string;
  method?: RestoreJobPlan["method"];
  overwrite?: boolean;
  ownedTarget?: boolean;
  attempt?: number;
  expectedPoints?: number | null;
  verify?: Partial<RestoreJobPlan["verify"]>;
  files?: (files: RestoreJobPlan["files"]) => RestoreJobPlan["files"];
}

/** The plan the controller would build for restoring `backup` into the Qdrant at `url`. */
export function restorePlan(backup: Backup, url: string, bucket: string, over: RestoreOver = {}): RestoreJobPlan {
  const m = backup.manifest;
  const source = over.source ?? m.collection?.name ?? m.storage?.collections[0]?.name ?? "";
  const s3 = testEnv().s3;
  const files = m.peers.map((p) => ({
    sourcePeerId: p.peerId,
    shardIds: m.mode === "Collection" ? [...(p.shardIds ?? [])] : [...(p.collections?.find((c) => c.name === source)?.shardIds ?? [])],
    key: p.file.key,
    size: p.file.size,
    sha256: p.file.sha256,
  }));
  const counted = m.mode === "Collection" ? m.collection?.pointsCount : m.storage?.collections.find((c) => c.name === source)?.pointsCount;
  const expected = over.expectedPoints === null ? undefined : (over.expectedPoints ?? counted);
  return {
    version: 1,
    restore: { namespace: "team-a", name: "restore-1", uid: randomUUID() },
    attempt: over.attempt ?? 1,
    backupId: m.backupId,
    mode: m.mode,
    sourceCollection: source,
    targetCollection: over.target ?? source,
    method: over.method ?? (m.mode === "FullStorage" ? "Upload" : "Pull"),
    priority: "snapshot",
    overwrite: over.overwrite ?? false,
    ownedTarget: over.ownedTarget ?? false,
    files: over.files ? over.files(files) : files,
    ...(expected !== undefined ? { expectedPoints: expected } : {}),
    verify: { waitForGreen: true, comparePointsCount: true, timeoutSeconds: 60, ...over.verify },
    qdrant: { url, timeoutSeconds: 10, discovery: { mode: "Cluster", restPort: Number(new URL(url).port), scheme: "http" } },
    s3: { bucket, region: s3.region, endpoint: s3.endpoint, forcePathStyle: true },
    presignSeconds: 900,
  };
}

/**
 * Every object of `backup` encoded as the backup Job will encode it (encodeSnapshot) and put beside it,
 * at its key with .zst/.age (and `suffix`); returns the plan's `files` override listing them as such a
 * manifest will (stored size and SHA-256, codec, keyRef). `mangle(i, bytes)` changes object i after it
 * was hashed (a corruption the manifest does not know of).
 */
export async function encodeObjects(backup: Backup, bucket: string, settings: EncodeSettings, opts: { suffix?: string; mangle?: (index: number, stored: Buffer, sourcePeerId: string) => void } = {}): Promise<(files: RestoreJobPlan["files"]) => RestoreJobPlan["files"]> {
  const client = s3Client();
  const encoded = new Map<string, Partial<RestorePeerFile>>();
  try {
    for (const [i, p] of backup.manifest.peers.entries()) {
      const stored = await collect(encodeSnapshot(chunksOf(await objectBytes(client, bucket, p.file.key)), settings));
      const sha256 = createHash("sha256").update(stored).digest("hex");
      opts.mangle?.(i, stored, p.peerId);
      const key = `${p.file.key}${settings.compression ? ".zst" : ""}${settings.encryption ? ".age" : ""}${opts.suffix ?? ""}`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: stored }));
      encoded.set(p.file.key, {
        key,
        stored: { size: stored.length, sha256 },
        ...(settings.compression ? { compression: { algorithm: "zstd" as const } } : {}),
        ...(settings.encryption ? { encryption: { scheme: "age-v1" as const, keyRef: "age-key/keys.txt" } } : {}),
      });
    }
  } finally {
    client.destroy();
  }
  return (files) => files.map((f) => ({ ...f, ...encoded.get(f.key) }));
}

export type RestoreRun = JobProcessRun<RestoreJobResult>;
export type StartedRestore = StartedJobProcess<RestoreJobResult>;

/** Starts `job restore` as a child process; `env`: more of the Job's environment (ENCRYPTION_KEYS). */
export function startRestore(plan: RestoreJobPlan | string, env: Record<string, string | undefined> = {}): StartedRestore {
  return spawnJob("restore", plan, { ...jobSecrets(), ...env }, (text) => JSON.parse(text) as RestoreJobResult);
}

export function runRestore(plan: RestoreJobPlan | string, env: Record<string, string | undefined> = {}): Promise<RestoreRun> {
  return startRestore(plan, env).wait();
}

/** Waits until the running restore's result file holds its claim; returns the text. */
export function claimWritten(job: StartedRestore): Promise<string> {
  return eventually("the restore's provisional result with its claim", () => (job.resultNow().includes('"claim"') ? job.resultNow() : undefined), 60_000);
}

export function api(url: string): QdrantApi {
  return new QdrantApi({ url, timeoutMs: 30_000 });
}

/** The failure's reason, or "ok" (for assert messages that show the whole run when they fail). */
export function outcome(run: RestoreRun): string {
  return run.result === undefined ? "no result" : run.result.ok ? "ok" : run.result.reason;
}
