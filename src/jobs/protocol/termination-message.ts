/**
 * The one channel from a Job's process back to its controller: one JSON line (the result) in the
 * container's termination message file, which the kubelet copies into the Pod's status. It needs no
 * Kubernetes API rights (the Job's pod has none) and survives the container. The kubelet keeps at most
 * 4 KiB of it, so a writer fits its result into MAX_TERMINATION_MESSAGE_BYTES itself (a kind supplies
 * how its result shrinks); the reader accepts what a kubelet can hand back: nothing, a log tail
 * (terminationMessagePolicy FallbackToLogsOnError, when the process died before writing), JSON after log
 * lines, or JSON cut short.
 */
import { writeFileSync } from "node:fs";
import type { Static, TSchema } from "@sinclair/typebox";
import { checker } from "./schema-check.ts";
import { JobFailure, MAX_FAILURE_MESSAGE, REASON_PATTERN } from "./failure.ts";

/** Termination messages beyond this are truncated by the kubelet. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** Where the kubelet reads the message from (terminationMessagePath's default); RESULT_FILE overrides it. */
export const DEFAULT_RESULT_FILE = "/dev/termination-log";

const fits = (text: string): boolean => Buffer.byteLength(text, "utf8") <= MAX_TERMINATION_MESSAGE_BYTES;

/**
 * `result` as it fits the message: whole if it fits, else the first of `smaller(result)` (ever smaller
 * versions, e.g. without per-file lists, then with lists cut from the end) that fits, else the last of
 * them. A failure's message is cut instead.
 */
export function encodeResult<R extends { ok: true }>(result: R | JobFailure, smaller?: (r: R) => Iterable<R>): string {
  const whole = JSON.stringify(result);
  if (fits(whole)) return whole;
  if (!result.ok) return fittedFailure(result);
  let last = whole;
  for (const candidate of smaller?.(result) ?? []) {
    last = JSON.stringify(candidate);
    if (fits(last)) return last;
  }
  return last;
}

/**
 * A failure whose message is cut, from its end, until the whole JSON fits in bytes: a message in another
 * script (3 bytes a character in UTF-8) or full of characters JSON escapes is longer in bytes than in
 * characters, and a kubelet-truncated message would lose the reason.
 */
function fittedFailure(f: JobFailure): string {
  const whole = Array.from(f.message);
  let chars = whole.slice(0, MAX_FAILURE_MESSAGE);
  for (;;) {
    const text = JSON.stringify({ ...f, message: chars.length < whole.length ? `${chars.join("")}…` : f.message });
    const over = Buffer.byteLength(text, "utf8") - MAX_TERMINATION_MESSAGE_BYTES;
    if (over <= 0 || chars.length === 0) return text;
    // Every character is at least one byte: dropping `over` of them leaves at most what fits.
    chars = chars.slice(0, Math.max(0, chars.length - over));
  }
}

export function writeResultFile(path: string, text: string): void {
  writeFileSync(path, text);
}

/**
 * Writes a failure into the result file NOW, before the run ends: what the kubelet keeps as the
 * termination message if the process is killed (SIGKILL, OOM) before it writes its final result, which
 * overwrites it. A kind writes one before a step whose half-done state a retry must know about (the
 * restore's claim on the collection it is about to create). Synchronous, and it throws: work that
 * depends on the provisional result being on disk must not start when it could not be written.
 */
export function writeProvisionalResult(path: string, failure: FailureWithDetail): void {
  writeResultFile(path, encodeResult(failure));
}

/**
 * A failure with fields of its kind beside the shared ones (a restore's `claim`): what a Job writes, and
 * what the reader hands back, the extra fields in `detail`.
 */
export type FailureWithDetail = JobFailure & Record<string, unknown>;

/** The shared failure as the reader returns it: the kind's own fields, when there were any, in `detail`. */
export type ReadFailure = JobFailure & { detail?: Record<string, unknown> };

/** A Job kind's result as the controller reads it: its success, or the shared failure (with its kind's fields in `detail`). */
export type JobResult<S extends TSchema> = Static<S> | ReadFailure;

export type ParsedMessage<R> =
  | { kind: "result"; result: R }
  /** Not a result: a log tail (FallbackToLogsOnError), a crash's stack, or JSON cut short. */
  | { kind: "text"; text: string }
  | { kind: "none" };

/** Longest text kept from a non-JSON termination message (its end: where a crash says why). */
export const MAX_TEXT = 1024;

export interface ResultReader<R> {
  /** Parses a termination message: one JSON result, possibly after log lines. */
  parse(message: string | undefined): ParsedMessage<R>;
}

/**
 * The reader of one Job kind's results. `success` is the kind's success schema (with `ok: true`);
 * `fallbackReason` stands in for a failure's reason that is not CamelCase (e.g. BackupFailed).
 */
export function resultReader<S extends TSchema>(success: S, fallbackReason: string): ResultReader<JobResult<S>> {
  const succeeded = checker(success, "result");
  const failed = checker(JobFailure, "result");
  const asResult = (value: unknown): JobResult<S> | undefined => {
    if (typeof value !== "object" || value === null) return undefined;
    if ((value as { ok?: unknown }).ok === false) {
      const f = failed.read(value);
      if (!f) return undefined;
      const { ok: _ok, reason: _reason, message: _message, retryable: _retryable, ...rest } = f as Record<string, unknown>;
      const detail = Object.keys(rest).length > 0 ? { detail: rest } : {};
      return { ok: false, reason: REASON_PATTERN.test(f.reason) ? f.reason : fallbackReason, message: f.message, retryable: f.retryable === true, ...detail };
    }
    return succeeded.read(value);
  };
  return {
    parse(message) {
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
    },
  };
}
