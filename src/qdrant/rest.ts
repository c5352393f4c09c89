/**
 * The raw HTTP layer under the Qdrant adapter (src/qdrant/client.ts): API key header, the signal a call
 * runs under (its own timeout combined with the caller's abort signal), and Qdrant's error envelope
 * (`{"status": {"error": "…"}}`, or plain text on download routes) turned into coded errors.
 *
 * Raw undici rather than @qdrant/js-client-rest for the calls that client cannot make well: snapshot
 * streams (it reads every answer as text), GET /cluster and /collections/{c}/cluster (peer ids are u64s
 * and must keep their exact decimal text), and calls with no client-side timeout at all.
 */
import type { Readable } from "node:stream";
import { Agent, request, type Dispatcher } from "undici";
import { OperatorError } from "../errors.ts";
import { reconcileSignal } from "../runtime/reconcile-signal.ts";

export interface QdrantEndpoint {
  /** REST base URL without a trailing slash. */
  url: string;
  apiKey?: string;
  /** Client-side timeout of an ordinary call; long calls (snapshot create and download) have none. */
  timeoutMs: number;
  /** For https with a private CA (QdrantConnection.spec.tls); undici's global dispatcher when absent. */
  dispatcher?: Dispatcher;
}

/** What every call of the adapter accepts. */
export interface CallOptions {
  /**
   * Stops the call (and a download's body) when aborted: a reconcile passes its own signal, so a manager
   * that lost its lease stops acting. An aborted call rejects with the signal's reason, never with a coded
   * Qdrant error, so no caller mistakes it for Qdrant's failure (and writes a condition saying so).
   */
  signal?: AbortSignal | undefined;
}

export interface TlsSettings {
  caPem?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

/** undici connect options that trust `caPem` (and check `serverName`), or skip verification when asked. */
function tlsConnectOptions(opts: TlsSettings): { ca?: string; servername?: string; rejectUnauthorized: boolean } {
  return {
    ...(opts.caPem ? { ca: opts.caPem } : {}),
    ...(opts.serverName ? { servername: opts.serverName } : {}),
    rejectUnauthorized: !opts.insecureSkipVerify,
  };
}

/**
 * An undici dispatcher with those TLS settings. Its own headers and body timeouts are off: every call's
 * deadline is its signal (CallDeadline), so one dispatcher serves ordinary and long calls alike.
 */
export function tlsDispatcher(opts: TlsSettings): Dispatcher {
  return new Agent({ connect: tlsConnectOptions(opts), headersTimeout: 0, bodyTimeout: 0 });
}

/**
 * The deadline of one call: its own timeout (none when `timeoutMs` is 0) combined with the caller's
 * signals and the ambient signal of the reconcile the call is made for (src/runtime/reconcile-signal.ts),
 * so that a manager's Qdrant call obeys a lost lease even where no one passed the signal down. Made
 * when the call starts, in the caller's async context. `failure` tells apart why a call failed: the
 * caller stopped it, it timed out, or the transport broke.
 */
export class CallDeadline {
  readonly signal: AbortSignal | undefined;
  readonly #timeout: AbortSignal | undefined;
  readonly #timeoutMs: number;
  readonly #callers: AbortSignal[];

  constructor(timeoutMs: number, ...callers: Array<AbortSignal | undefined>) {
    this.#timeoutMs = timeoutMs;
    this.#callers = [...new Set([...callers, reconcileSignal()])].filter((s): s is AbortSignal => s !== undefined);
    this.#timeout = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const all = this.#timeout ? [...this.#callers, this.#timeout] : this.#callers;
    this.signal = all.length === 0 ? undefined : all.length === 1 ? all[0] : AbortSignal.any(all);
  }

  /** Throws the caller's reason if it has already stopped: no request is sent for a stopped reconcile. */
  throwIfStopped(): void {
    for (const s of this.#callers) s.throwIfAborted();
  }

  /** What to throw for a call that failed with `err` before Qdrant answered. */
  failure(err: unknown, where: string): unknown {
    const stopped = this.#callers.find((s) => s.aborted);
    if (stopped) return stopped.reason;
    if (this.#timeout?.aborted) return new OperatorError("QDRANT_UNREACHABLE", `${where}: no answer within ${this.#timeoutMs} ms`, { cause: err });
    return new OperatorError("QDRANT_UNREACHABLE", `${where}: ${describeFetchError(err)}`, { cause: err });
  }
}

/** The headers of every call: the API key when there is one. */
function authHeaders(ep: QdrantEndpoint, accept: string): Record<string, string> {
  return { accept, ...(ep.apiKey ? { "api-key": ep.apiKey } : {}) };
}

export interface RawCallOptions extends CallOptions {
  /** No client-side timeout (creating a large snapshot): only the caller's signal or a dead peer end it. */
  noTimeout?: boolean;
  /** The adapter's own bound signal, combined with the call's. */
  bound?: AbortSignal;
}

export interface RequestOptions extends RawCallOptions {
  /** A JSON text, or a streamed body (a snapshot upload) whose length `contentLength` gives exactly. */
  body?: string | Readable;
  contentLength?: number;
  accept: string;
  contentType?: string;
}

/** One request sent, its answer's body still unread, with the deadline that also bounds reading it. */
interface Sent {
  res: Dispatcher.ResponseData;
  deadline: CallDeadline;
  where: string;
}

async function send(ep: QdrantEndpoint, method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<Sent> {
  const deadline = new CallDeadline(opts.noTimeout ? 0 : ep.timeoutMs, opts.signal, opts.bound);
  deadline.throwIfStopped();
  const where = `${method} ${ep.url}${path}`;
  const url = unchangedUrl(ep, path, where);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(url, {
      method,
      headers: {
        ...authHeaders(ep, opts.accept),
        ...(opts.contentType ? { "content-type": opts.contentType } : {}),
        ...(opts.contentLength !== undefined ? { "content-length": String(opts.contentLength) } : {}),
      },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      ...(ep.dispatcher ? { dispatcher: ep.dispatcher } : {}),
      ...(deadline.signal ? { signal: deadline.signal } : {}),
      // The deadline is the signal's; undici's own 300 s defaults would cut a long call short.
      headersTimeout: 0,
      bodyTimeout: 0,
      // 256 KiB reads for snapshot streams; no cost for small JSON answers.
      highWaterMark: 256 * 1024,
    });
  } catch (err) {
    throw deadline.failure(err, where);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return { res, deadline, where };
  throw qdrantError(res.statusCode, await readText({ res, deadline, where }), where);
}

/**
 * `ep.url` + `path` as a URL, refused when parsing would change its path: a `.` or `..` segment that
 * reached here (path.ts refuses the names that make one) would send the call to another endpoint, e.g.
 * `/collections/../snapshots` to the full-storage snapshots. The last guard, for every raw call.
 */
function unchangedUrl(ep: QdrantEndpoint, path: string, where: string): URL {
  const url = new URL(`${ep.url}${path}`);
  const base = new URL(ep.url).pathname.replace(/\/+$/, "");
  const asked = `${base}${path.replace(/[?#].*$/, "")}`;
  if (url.pathname !== asked) throw new OperatorError("INVALID_SPEC", `${where}: refused, the URL's path would resolve to ${url.pathname}`);
  return url;
}

async function readText({ res, deadline, where }: Sent): Promise<string> {
  try {
    return await res.body.text();
  } catch (err) {
    throw deadline.failure(err, where);
  }
}

/**
 * Sends one request and returns the answer with its body still unread, for the caller to stream (a
 * snapshot download; the caller's signal still cuts the body). Error answers are thrown as coded errors.
 */
export async function qdrantRequest(ep: QdrantEndpoint, method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<Dispatcher.ResponseData> {
  return (await send(ep, method, path, opts)).res;
}

/**
 * One JSON call. Every `peer_id` keeps its exact decimal text (Qdrant's peer ids are u64s, which lose
 * digits as JS numbers beyond 2^53), so callers type it as a string.
 */
export async function qdrantJson<T>(ep: QdrantEndpoint, method: Dispatcher.HttpMethod, path: string, body?: unknown, opts: RawCallOptions = {}): Promise<T> {
  return qdrantJsonAnswer<T>(ep, method, path, {
    ...opts,
    accept: "application/json",
    ...(body !== undefined ? { body: JSON.stringify(body), contentType: "application/json" } : {}),
  });
}

/** A call with a body of its own (a streamed multipart upload) whose answer is JSON, as qdrantJson reads it. */
export async function qdrantJsonAnswer<T>(ep: QdrantEndpoint, method: Dispatcher.HttpMethod, path: string, opts: RequestOptions): Promise<T> {
  const sent = await send(ep, method, path, opts);
  const text = await readText(sent);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, exactPeerIds);
  } catch (err) {
    throw new OperatorError("QDRANT_API_ERROR", `${sent.where}: the answer is not JSON (${(err as Error).message})`);
  }
  // GET / answers unwrapped; everything else in the {result, status, time} envelope.
  return (path === "/" ? parsed : (parsed as { result: T }).result) as T;
}

/** JSON.parse reviver: `peer_id` numbers keep their exact decimal text. */
function exactPeerIds(key: string, value: unknown, ...rest: unknown[]): unknown {
  const context = rest[0] as { source?: string } | undefined;
  return key === "peer_id" && typeof value === "number" && context?.source !== undefined ? context.source : value;
}

/** A Qdrant error answer as a coded error: 401/403 refused key, 404 missing object, anything else an API error. */
export function qdrantError(status: number, body: string, where: string): OperatorError {
  const message = errorText(body);
  if (status === 401 || status === 403) return new QdrantAnswerError("QDRANT_UNAUTHORIZED", `${where}: ${status} ${message}`, status, message);
  if (status === 404) return new QdrantAnswerError("QDRANT_NOT_FOUND", `${where}: ${message}`, status, message);
  return new QdrantAnswerError("QDRANT_API_ERROR", `${where}: ${status} ${message}`, status, message);
}

/**
 * A coded error that is Qdrant's own answer: its HTTP status and its words beside the message, so a
 * caller that must tell a refusal (4xx: a config, a query Qdrant will never accept) from a failure to
 * answer reads them here instead of parsing the message.
 */
export class QdrantAnswerError extends OperatorError {
  readonly status: number;
  readonly words: string;
  constructor(code: ConstructorParameters<typeof OperatorError>[0], message: string, status: number, words: string) {
    super(code, message);
    this.status = status;
    this.words = words;
  }
}

/** Qdrant's status and words when `err` is its answer; undefined when Qdrant did not answer (unreachable, a timeout). */
export function qdrantAnswer(err: unknown): { status: number; words: string } | undefined {
  return err instanceof QdrantAnswerError ? { status: err.status, words: err.words } : undefined;
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { status?: { error?: string } };
    if (parsed.status?.error) return parsed.status.error;
  } catch {
    // text/plain answer (401s, download routes)
  }
  return body.trim().slice(0, 500) || "(empty answer)";
}

/** fetch's "fetch failed" hides the reason in `cause`; surface ECONNREFUSED and friends. */
function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  const code = (err as { code?: string }).code;
  if (code) return `${code} (${err.message})`;
  return cause?.message ? `${err.message}: ${cause.message}` : err.message;
}
