/**
 * One run of a backup plan: find the peers, check the bucket, then back up the full storage (mode
 * FullStorage) or pick the collections and back each up (mode Collection). Fails
 * fast, before any snapshot is made, on what retrying cannot fix (bad credentials, missing bucket,
 * missing collection), so a permanent failure costs the cluster no snapshot work.
 */
import { HeadBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Logger } from "pino";
import { OperatorError } from "../../errors.ts";
import type { QdrantApi } from "../../qdrant/client.ts";
import { discoverTopology } from "../../qdrant/peers.ts";
import { s3Error } from "../../s3/client.ts";
import type { CleanupRegistry } from "../protocol/cleanup-registry.ts";
import { backupCollection } from "./collection-backup.ts";
import type { RunContext } from "./run-context.ts";
import { backupStorage } from "./storage-backup.ts";
import type { AgeKeys } from "../../backup/codec/types.ts";
import { objectLockRecord, objectSettings } from "./object-settings.ts";
import type { BackupJobCollectionResult, BackupJobPlan, BackupJobResult, ExcludedCollection } from "./contract.ts";

/**
 * `qdrant`: the plan's Qdrant URL with the connection's key, TLS and timeout; `keys`: the key file of
 * ENCRYPTION_KEYS, when the plan encrypts.
 */
export async function runBackup(plan: BackupJobPlan, qdrant: QdrantApi, s3: S3Client, log: Logger, cleanup: CleanupRegistry, keys?: AgeKeys): Promise<Extract<BackupJobResult, { ok: true }>> {
  const startTime = new Date();
  const objects = objectSettings(plan, keys, startTime);
  const objectLock = objectLockRecord(objects);
  const topology = await discoverTopology(qdrant, plan.qdrant.discovery);
  log.info({ mode: topology.mode, qdrantVersion: topology.version, peers: topology.peers }, "Discovered Qdrant peers");

  try {
    await s3.send(new HeadBucketCommand({ Bucket: plan.s3.bucket }));
  } catch (err) {
    throw s3Error(err, plan.s3.bucket, "HeadBucket");
  }

  const ctx: RunContext = { plan, qdrant, s3, topology, log, startTime, cleanup, objects };
  if (plan.mode === "FullStorage") {
    const storage = await backupStorage(ctx);
    return { ok: true, backupId: plan.backupId, startTime: startTime.toISOString(), completionTime: new Date().toISOString(), ...storage, ...(objectLock ? { objectLock } : {}) };
  }

  const [existing, aliases] = await Promise.all([qdrant.listCollections(), qdrant.listAliases()]);
  const sel = plan.collections ?? {};
  const { collections, excluded } = leaveOut(sel, selectCollections(sel, existing, aliases), plan.exclude);
  log.info({ collections, ...(excluded.length > 0 ? { excluded } : {}) }, "Selected collections");

  const results: BackupJobCollectionResult[] = [];
  for (const c of collections) {
    results.push(await backupCollection(ctx, c, aliases.filter((a) => a.collection === c).map((a) => a.alias).sort(), excluded));
  }
  return {
    ok: true,
    backupId: plan.backupId,
    startTime: startTime.toISOString(),
    completionTime: new Date().toISOString(),
    sizeBytes: results.reduce((n, r) => n + r.sizeBytes, 0),
    collections: results,
    ...(excluded.length > 0 ? { excluded } : {}),
    ...(objectLock ? { objectLock } : {}),
  };
}

/**
 * What `all` or a pattern selected, without the collections the plan's exclude names (the operator is
 * building them); `excluded` is those it did select, with their reasons. Explicit names are never left
 * out: naming a collection is the user's choice. Leaving everything out fails like selecting nothing.
 */
export function leaveOut(sel: NonNullable<BackupJobPlan["collections"]>, selected: string[], exclude: readonly ExcludedCollection[] = []): { collections: string[]; excluded: ExcludedCollection[] } {
  if (sel.names !== undefined || exclude.length === 0) return { collections: selected, excluded: [] };
  const why = new Map(exclude.map((e) => [e.name, e.reason]));
  const excluded = selected.filter((n) => why.has(n)).map((name) => ({ name, reason: why.get(name)! }));
  const collections = selected.filter((n) => !why.has(n));
  if (collections.length === 0) {
    const what = sel.all === true ? "collections.all" : `collections.pattern ${JSON.stringify(sel.pattern)}`;
    throw new OperatorError("COLLECTION_NOT_FOUND", `${what}: every collection it selects is one the operator is building (${excluded.map((e) => `${e.name}: ${e.reason}`).join("; ")})`);
  }
  return { collections, excluded };
}

/**
 * The plan's selector over the collections that exist. A named collection that does not exist fails the
 * backup (never a silent skip: a schedule that backs up nothing must say so); an alias is not a
 * collection, and the message says which collection it points at. A pattern is anchored (the whole name
 * must match). `all` or a pattern that selects nothing fails too.
 */
export function selectCollections(
  sel: NonNullable<BackupJobPlan["collections"]>,
  existing: string[],
  aliases: Array<{ alias: string; collection: string }>,
): string[] {
  const have = new Set(existing);
  if (sel.names !== undefined) {
    for (const n of sel.names) {
      if (have.has(n)) continue;
      const alias = aliases.find((a) => a.alias === n);
      const hint = alias ? ` ("${n}" is an alias of collection "${alias.collection}"; name the collection)` : "";
      throw new OperatorError("COLLECTION_NOT_FOUND", `collection "${n}" does not exist${hint}`);
    }
    return [...new Set(sel.names)];
  }
  const sorted = [...existing].sort();
  if (sel.all === true) {
    if (sorted.length === 0) throw new OperatorError("COLLECTION_NOT_FOUND", "collections.all: Qdrant has no collection to back up");
    return sorted;
  }
  if (sel.pattern !== undefined) {
    const re = new RegExp(`^(?:${sel.pattern})$`, "u");
    const picked = sorted.filter((n) => re.test(n));
    if (picked.length === 0) throw new OperatorError("COLLECTION_NOT_FOUND", `no collection matches the pattern ${JSON.stringify(sel.pattern)} (collections: ${sorted.join(", ") || "none"})`);
    return picked;
  }
  throw new OperatorError("BACKUP_PLAN_INVALID", "collections must have one of names, all, pattern");
}
