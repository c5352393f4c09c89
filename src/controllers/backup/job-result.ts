/**
 * Reading a backup Job's result: the BackupJobResult its container wrote to the termination message
 * (src/jobs/backup/contract.ts), and what the Job and its pods say when there is none. Pure, so every
 * odd message a kubelet can hand back (empty, a log tail, JSON cut at 4 KiB) is a table test.
 */
import type { BackupJobCollectionResult, BackupJobFile, BackupJobResult } from "../../jobs/backup/contract.ts";
import { CONTAINER_NAME } from "./names.ts";
import type { ContainerStateTerminated, JobCondition, JobObject, PodObject } from "./types.ts";

export type SuccessResult = Extract<BackupJobResult, { ok: true }>;

export type ParsedMessage =
  | { kind: "result"; result: BackupJobResult }
  /** Not a result: a log tail (FallbackToLogsOnError), a crash's stack, or JSON cut short. */
  | { kind: "text"; text: string }
  | { kind: "none" };

/** Longest text kept from a non-JSON termination message (its end: where a crash says why). */
export const MAX_TEXT = 1024;
const REASON = /^[A-Z][A-Za-z0-9]{0,127}$/;

/** Parses a termination message: one JSON BackupJobResult, possibly after log lines. */
export function parseResultMessage(message: string | undefined): ParsedMessage {
  const text = (message ?? "").trim();
  if (text === "") return { kind: "none" };
  const lines = text.split("\n");
  for (const candidate of [text, lines[lines.length - 1]!.trim()]) {
    if (!candidate.startsWith("{")) continue;
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    const result = asResult(value);
    if (result) return { kind: "result", result };
  }
  return { kind: "text", text: text.length > MAX_TEXT ? `…${text.slice(text.length - MAX_TEXT + 1)}` : text };
}

function asResult(v: unknown): BackupJobResult | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (o.ok === false) {
    if (typeof o.message !== "string") return undefined;
    const reason = typeof o.reason === "string" && REASON.test(o.reason) ? o.reason : "BackupFailed";
    return { ok: false, reason, message: o.message, retryable: o.retryable === true };
  }
  if (o.ok !== true) return undefined;
  if (typeof o.backupId !== "string" || typeof o.startTime !== "string" || typeof o.completionTime !== "string") return undefined;
  const collections = Array.isArray(o.collections) ? o.collections.map(asCollection) : undefined;
  if (collections?.some((c) => c === undefined)) return undefined;
  const files = Array.isArray(o.files) ? asFiles(o.files) : undefined;
  const storage = asStorage(o.storage);
  return {
    ok: true,
    backupId: o.backupId,
    startTime: o.startTime,
    completionTime: o.completionTime,
    sizeBytes: isCount(o.sizeBytes) ? o.sizeBytes : 0,
    ...(collections ? { collections: collections as BackupJobCollectionResult[] } : {}),
    ...(typeof o.manifestKey === "string" ? { manifestKey: o.manifestKey } : {}),
    ...(files ? { files } : {}),
    ...(storage ? { storage } : {}),
    ...(o.truncated === true ? { truncated: true as const } : {}),
  };
}

/** FullStorage: the storage's collections; entries that are not well-formed are left out. */
function asStorage(v: unknown): SuccessResult["storage"] {
  if (typeof v !== "object" || v === null || !Array.isArray((v as { collections?: unknown }).collections)) return undefined;
  const collections: NonNullable<SuccessResult["storage"]>["collections"] = [];
  for (const c of (v as { collections: unknown[] }).collections) {
    if (typeof c !== "object" || c === null) continue;
    const o = c as Record<string, unknown>;
    if (typeof o.name !== "string") continue;
    const aliases = Array.isArray(o.aliases) ? o.aliases.filter((a): a is string => typeof a === "string") : [];
    collections.push({ name: o.name, ...(isCount(o.pointsCount) ? { pointsCount: o.pointsCount } : {}), aliases });
  }
  return { collections };
}

/** Well-formed file entries only: a status must never show a checksum that is not one. */
function asFiles(list: unknown[]): BackupJobFile[] {
  return list
    .filter((f): f is Record<string, unknown> => typeof f === "object" && f !== null)
    .filter((f) => typeof f.key === "string" && typeof f.peerId === "string" && isCount(f.size) && typeof f.sha256 === "string" && /^[0-9a-f]{64}$/.test(f.sha256))
    .map((f) => ({ peerId: f.peerId as string, key: f.key as string, size: f.size as number, sha256: f.sha256 as string }));
}

function asCollection(v: unknown): BackupJobCollectionResult | undefined {
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.name !== "string" || typeof o.manifestKey !== "string") return undefined;
  const files = Array.isArray(o.files) ? asFiles(o.files) : undefined;
  return {
    name: o.name,
    manifestKey: o.manifestKey,
    pointsCount: isCount(o.pointsCount) ? o.pointsCount : 0,
    sizeBytes: isCount(o.sizeBytes) ? o.sizeBytes : 0,
    ...(files ? { files } : {}),
  };
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

export type JobOutcome =
  | { phase: "Running"; startTime?: string }
  /** `result` is absent when the Job completed but its message could not be read; `note` says why. */
  | { phase: "Succeeded"; result?: SuccessResult; note?: string; startTime?: string; completionTime?: string }
  | { phase: "Failed"; reason: string; message: string; startTime?: string; completionTime?: string };

function condition(job: JobObject, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}

function terminatedStates(pods: PodObject[]): Array<{ pod: PodObject; state: ContainerStateTerminated }> {
  const out: Array<{ pod: PodObject; state: ContainerStateTerminated }> = [];
  for (const pod of pods) {
    const cs = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
    const state = cs?.state?.terminated ?? cs?.lastState?.terminated;
    if (state) out.push({ pod, state });
  }
  return out;
}

const time = (s: string | undefined): number => (s ? Date.parse(s) || 0 : 0);

/**
 * What a Job and its pods say about the backup. Only the Job's terminal conditions (Complete, Failed)
 * end it: the interim SuccessCriteriaMet/FailureTarget come while pods may still be terminating.
 */
export function jobOutcome(job: JobObject, pods: PodObject[]): JobOutcome {
  const startTime = job.status?.startTime;
  const times = (completion?: string) => ({ ...(startTime ? { startTime } : {}), ...(completion ? { completionTime: completion } : {}) });
  const complete = condition(job, "Complete");
  if (complete) {
    const ok = terminatedStates(pods).find((t) => t.state.exitCode === 0);
    const parsed = parseResultMessage(ok?.state.message);
    const completion = job.status?.completionTime ?? complete.lastTransitionTime;
    if (parsed.kind === "result" && parsed.result.ok) return { phase: "Succeeded", result: parsed.result, ...times(completion) };
    const note = !ok
      ? "no pod of the Job is left to read its result from"
      : parsed.kind === "text"
        ? `its termination message is not a result: ${parsed.text}`
        : parsed.kind === "none"
          ? "its termination message is empty"
          : "its termination message reports a failure although it exited 0";
    return { phase: "Succeeded", note: `The Job completed but ${note}; the manifests in the bucket are authoritative.`, ...times(completion) };
  }
  const failed = condition(job, "Failed");
  if (!failed) return startTime ? { phase: "Running", startTime } : { phase: "Running" };
  const completion = failed.lastTransitionTime;
  const jobReason = failed.reason && REASON.test(failed.reason) ? failed.reason : "JobFailed";
  const jobMessage = failed.message ?? "the Job failed";
  const last = terminatedStates(pods)
    .filter((t) => t.state.exitCode !== 0)
    .sort((a, b) => time(a.state.finishedAt ?? a.pod.metadata?.creationTimestamp) - time(b.state.finishedAt ?? b.pod.metadata?.creationTimestamp))
    .at(-1);
  const parsed = parseResultMessage(last?.state.message);
  if (parsed.kind === "result" && !parsed.result.ok) return { phase: "Failed", reason: parsed.result.reason, message: parsed.result.message, ...times(completion) };
  if (parsed.kind === "text") return { phase: "Failed", reason: jobReason, message: `${jobMessage}; the last attempt exited ${last!.state.exitCode}: ${parsed.text}`, ...times(completion) };
  const exit = last ? `; the last attempt exited ${last.state.exitCode}${last.state.reason ? ` (${last.state.reason})` : ""}` : "";
  return { phase: "Failed", reason: jobReason, message: `${jobMessage}${exit}`, ...times(completion) };
}
