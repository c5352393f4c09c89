/**
 * The Job's answer to the controller: a BackupJobResult as one JSON line in the termination message file,
 * and the exit code the Job's podFailurePolicy acts on. Failures keep the words of whoever failed (Qdrant's
 * "No space left on device", S3's "The Access Key Id you provided does not exist…") with every secret
 * value replaced, because termination messages are readable by anyone who may read Pods.
 */
import { writeFileSync } from "node:fs";
import { S3ServiceException } from "@aws-sdk/client-s3";
import { isOperatorError } from "../../errors.ts";
import { s3Words } from "../../s3/client.ts";
import { EXIT_CODES, MAX_RESULT_BYTES, type BackupJobResult } from "./contract.ts";

export const DEFAULT_RESULT_FILE = "/dev/termination-log";

/** Replaces every occurrence of a secret value (and its URL-encoded form) with "***". */
export function scrub(text: string, secrets: Array<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join("***");
  }
  return out;
}

/** A failure as the contract's failed result. */
export function failureResult(err: unknown, secrets: Array<string | undefined>): Extract<BackupJobResult, { ok: false }> {
  if (isOperatorError(err)) {
    let message = err.message;
    // s3Error's message says what to fix; S3's own words are in the SDK error it wraps.
    const cause = err.cause;
    const words = cause instanceof S3ServiceException ? s3Words(cause) : undefined;
    if (words && !message.includes(words)) message = `${message}: ${words}`;
    return { ok: false, reason: err.reason, message: clip(scrub(message, secrets)), retryable: err.retryable };
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { ok: false, reason: "InternalError", message: clip(scrub(message, secrets)), retryable: true };
}

export function exitCodeFor(result: BackupJobResult): number {
  if (result.ok) return EXIT_CODES.SUCCESS;
  return result.retryable ? EXIT_CODES.RETRYABLE : EXIT_CODES.PERMANENT;
}

/**
 * The result as it fits in MAX_RESULT_BYTES: first whole, then without the per-file lists (the manifests
 * have them), then with the lists of collections cut from the end (the controller shows what it got; the
 * manifests are complete).
 */
export function encodeResult(result: BackupJobResult): string {
  const fits = (r: BackupJobResult) => Buffer.byteLength(JSON.stringify(r), "utf8") <= MAX_RESULT_BYTES;
  if (fits(result)) return JSON.stringify(result);
  if (!result.ok) return JSON.stringify({ ...result, message: result.message.slice(0, 3000) });
  const { files: _files, ...rest } = result;
  const slim = {
    ...rest,
    ...(result.collections ? { collections: result.collections.map(({ files: _f, ...c }) => c) } : {}),
    ...(result.storage ? { storage: { collections: [...result.storage.collections] } } : {}),
  };
  while (!fits(slim) && (slim.collections?.length ?? 0) > 0) slim.collections!.pop();
  while (!fits(slim) && (slim.storage?.collections.length ?? 0) > 0) slim.storage!.collections.pop();
  return JSON.stringify(slim);
}

export function writeResult(path: string, result: BackupJobResult): void {
  writeFileSync(path, encodeResult(result));
}

function clip(s: string): string {
  return s.length > 3000 ? `${s.slice(0, 2990)}…` : s;
}
