/**
 * Reads and checks the BACKUP_PLAN the controller wrote. The plan comes from our own controller, so a bad
 * one is a bug or a version skew between the manager and the Job's image; either way retrying cannot fix
 * it, so every problem is a permanent BACKUP_PLAN_INVALID that names the field.
 */
import { OperatorError } from "../../errors.ts";
import { isBackupId } from "../../backup/layout/backup-id.ts";
import { connectionPrefix } from "../../backup/layout/object-keys.ts";
import type { BackupJobPlan } from "./contract.ts";

export function parsePlan(text: string | undefined): BackupJobPlan {
  if (text === undefined || text.trim() === "") throw invalid("BACKUP_PLAN is not set");
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw invalid(`BACKUP_PLAN is not JSON (${(err as Error).message})`);
  }
  const problems = planProblems(data);
  if (problems.length > 0) throw invalid(`BACKUP_PLAN is invalid: ${problems.join("; ")}`);
  return data as BackupJobPlan;
}

function invalid(message: string): OperatorError {
  return new OperatorError("BACKUP_PLAN_INVALID", message);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string" && v !== "";

/** Every problem found, so one failed Job says everything that is wrong. */
export function planProblems(data: unknown): string[] {
  if (!isObj(data)) return ["it is not a JSON object"];
  const out: string[] = [];
  if (data.version !== 1) out.push(`version must be 1 (got ${JSON.stringify(data.version)}): the Job's image and the manager disagree`);
  if (!isStr(data.backupId) || !isBackupId(data.backupId)) out.push(`backupId ${JSON.stringify(data.backupId)} is not a backup id`);
  if (data.mode !== "Collection" && data.mode !== "FullStorage") out.push(`mode must be Collection or FullStorage (got ${JSON.stringify(data.mode)})`);
  if (data.mode === "Collection") out.push(...collectionProblems(data.collections));
  if (!isStr(data.operatorVersion)) out.push("operatorVersion is missing");

  const q = data.qdrant;
  if (!isObj(q)) out.push("qdrant is missing");
  else {
    if (!isStr(q.url) || !/^https?:\/\/[^/]/.test(q.url)) out.push(`qdrant.url must be an http(s) URL (got ${JSON.stringify(q.url)})`);
    if (typeof q.timeoutSeconds !== "number" || !(q.timeoutSeconds > 0)) out.push("qdrant.timeoutSeconds must be a positive number");
    const d = q.discovery;
    if (!isObj(d)) out.push("qdrant.discovery is missing");
    else {
      if (!["Cluster", "Static", "None"].includes(d.mode as string)) out.push("qdrant.discovery.mode must be Cluster, Static or None");
      if (!Number.isInteger(d.restPort) || (d.restPort as number) < 1 || (d.restPort as number) > 65535) out.push("qdrant.discovery.restPort must be a port number");
      if (d.scheme !== "http" && d.scheme !== "https") out.push("qdrant.discovery.scheme must be http or https");
      if (d.mode === "Static" && (!Array.isArray(d.urls) || d.urls.length === 0 || !d.urls.every((u) => isStr(u) && /^https?:\/\//.test(u)))) {
        out.push("qdrant.discovery.urls must list the peers' http(s) URLs in Static mode");
      }
    }
  }
  const s3 = data.s3;
  if (!isObj(s3)) out.push("s3 is missing");
  else {
    if (!isStr(s3.bucket)) out.push("s3.bucket is missing");
    if (!isStr(s3.region)) out.push("s3.region is missing");
    if (typeof s3.forcePathStyle !== "boolean") out.push("s3.forcePathStyle must be a boolean");
    if (s3.prefix !== undefined && typeof s3.prefix !== "string") out.push("s3.prefix must be a string");
    if (s3.endpoint !== undefined && (!isStr(s3.endpoint) || !/^https?:\/\//.test(s3.endpoint))) out.push("s3.endpoint must be an http(s) URL");
    const sse = s3.serverSideEncryption;
    if (sse !== undefined && (!isObj(sse) || (sse.type !== "AES256" && sse.type !== "aws:kms"))) out.push("s3.serverSideEncryption.type must be AES256 or aws:kms");
  }
  const src = data.source;
  if (!isObj(src)) out.push("source is missing");
  else {
    for (const f of ["namespace", "connection", "backupName", "backupUid"]) if (!isStr(src[f])) out.push(`source.${f} is missing`);
    if (isStr(src.namespace) && isStr(src.connection)) {
      try {
        connectionPrefix({ namespace: src.namespace, connection: src.connection, ...(isObj(s3) && typeof s3.prefix === "string" ? { prefix: s3.prefix } : {}) });
      } catch (err) {
        out.push(`source: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

function collectionProblems(c: unknown): string[] {
  if (!isObj(c)) return ["collections is required in mode Collection"];
  const given = [c.names !== undefined, c.all !== undefined, c.pattern !== undefined].filter(Boolean).length;
  if (given !== 1) return ["collections must have exactly one of names, all, pattern"];
  if (c.names !== undefined && (!Array.isArray(c.names) || c.names.length === 0 || !c.names.every(isStr))) return ["collections.names must be a non-empty list of names"];
  if (c.all !== undefined && c.all !== true) return ["collections.all must be true when given"];
  if (c.pattern !== undefined) {
    if (!isStr(c.pattern)) return ["collections.pattern must be a non-empty string"];
    try {
      new RegExp(c.pattern, "u");
    } catch (err) {
      return [`collections.pattern is not a regular expression: ${(err as Error).message}`];
    }
  }
  return [];
}
