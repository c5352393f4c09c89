/**
 * Coded errors of the controller runtime. Codes are stable strings (RUNTIME_*) that logs, tests and the
 * planned project-wide registry (src/errors.ts) can match on without parsing messages.
 */

export abstract class RuntimeError extends Error {
  abstract readonly code: string;
}

/**
 * Thrown by a reconcile when retrying cannot help until the object itself changes (an invalid spec, a
 * reference to something that must never exist). The controller forgets the key's backoff and does not
 * requeue it; the next watch event for the object reconciles it again.
 */
export class TerminalError extends RuntimeError {
  readonly code = "RUNTIME_TERMINAL";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/**
 * The apiserver refused a write because the object changed since it was read (HTTP 409). Expected under
 * concurrency, not a failure: the controller requeues the key with backoff and logs it at debug level only,
 * and the next reconcile re-reads the world.
 */
export class ConflictError extends RuntimeError {
  readonly code = "RUNTIME_CONFLICT";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConflictError";
  }
}

/** Invalid flags or environment at start-up; `problems` names each bad setting and what it accepts. */
export class ConfigError extends RuntimeError {
  readonly code = "RUNTIME_CONFIG_INVALID";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** A watch ended with 410 Gone: the resourceVersion is older than the apiserver keeps; relist. */
export class WatchExpiredError extends RuntimeError {
  readonly code = "RUNTIME_WATCH_EXPIRED";
  constructor(message: string) {
    super(message);
    this.name = "WatchExpiredError";
  }
}

/** This process stopped holding the leader lease while it was reconciling; the manager stops (see manager.ts). */
export class LeaderElectionLostError extends RuntimeError {
  readonly code = "RUNTIME_LEADER_ELECTION_LOST";
  constructor(message: string) {
    super(message);
    this.name = "LeaderElectionLostError";
  }
}

/**
 * A write this process must not make: the manager's client refuses writes once the leader lease is known
 * lost (or before it was ever held), so a reconcile still running on a deposed leader changes nothing.
 * Not retried: the process is stopping, and the next leader redoes the work.
 */
export class WriteRefusedError extends RuntimeError {
  readonly code = "RUNTIME_WRITE_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "WriteRefusedError";
  }
}

/** The caches did not sync before the start-up deadline (RBAC denies list/watch, a CRD is not installed…). */
export class CacheSyncTimeoutError extends RuntimeError {
  readonly code = "RUNTIME_CACHE_SYNC_TIMEOUT";
  constructor(message: string) {
    super(message);
    this.name = "CacheSyncTimeoutError";
  }
}

export function isTerminalError(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

export function isConflictError(err: unknown): err is ConflictError {
  return err instanceof ConflictError;
}

/**
 * A non-2xx answer from the apiserver. `status` is the HTTP status; `reason` the Status object's reason
 * ("Conflict", "NotFound", "Expired"…) when the body carried one.
 */
export class ApiError extends RuntimeError {
  readonly code = "RUNTIME_API_ERROR";
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: unknown;
  constructor(method: string, path: string, status: number, body: unknown) {
    const s = body as { message?: unknown; reason?: unknown } | undefined;
    const detail = typeof s?.message === "string" ? s.message : typeof body === "string" ? body.slice(0, 500) : "";
    super(`${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ""}`);
    this.name = "ApiError";
    this.status = status;
    this.reason = typeof s?.reason === "string" ? s.reason : undefined;
    this.body = body;
  }
}

/**
 * The HTTP status behind an error from any client this runtime uses: its own {@link ApiError}, the
 * generated clients' ApiException (`code`), or the Watch class (`statusCode`). Undefined for network errors.
 */
export function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.status;
  if (typeof err !== "object" || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === "number") return e.statusCode;
  if (typeof e.code === "number") return e.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => httpStatusOf(err) === 404;
export const isForbidden = (err: unknown): boolean => httpStatusOf(err) === 403;
export const isConflict = (err: unknown): boolean => httpStatusOf(err) === 409 && !isAlreadyExists(err);
export const isAlreadyExists = (err: unknown): boolean => httpStatusOf(err) === 409 && reasonOf(err) === "AlreadyExists";

/** The Status reason ("AlreadyExists", "Expired"…) of an API error, if its body carried one. */
export function reasonOf(err: unknown): string | undefined {
  if (err instanceof ApiError) return err.reason;
  let body = (err as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const reason = (body as { reason?: unknown } | undefined)?.reason;
  return typeof reason === "string" ? reason : undefined;
}
export const isGone = (err: unknown): boolean => httpStatusOf(err) === 410;
