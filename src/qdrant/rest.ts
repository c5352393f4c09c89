/**
 * The thin HTTP layer under the Qdrant adapter: API key header, per-call timeout, and Qdrant's error
 * envelope (`{"status": {"error": "…"}}`, or plain text on download routes) turned into coded errors.
 * Raw fetch rather than @qdrant/js-client-rest for the calls that client cannot make (GET /cluster is
 * raw-only there; snapshot streams are not possible with it at all).
 */
import { Agent, fetch, type Dispatcher } from "undici";
import { OperatorError } from "../errors.ts";

export interface QdrantEndpoint {
  /** REST base URL without a trailing slash. */
  url: string;
  apiKey?: string;
  timeoutMs: number;
  /** For https with a private CA (QdrantConnection.spec.tls). */
  dispatcher?: Dispatcher;
}

export interface TlsSettings {
  caPem?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

/** undici connect options that trust `caPem` (and check `serverName`), or skip verification when asked. */
export function tlsConnectOptions(opts: TlsSettings): { ca?: string; servername?: string; rejectUnauthorized: boolean } {
  return {
    ...(opts.caPem ? { ca: opts.caPem } : {}),
    ...(opts.serverName ? { servername: opts.serverName } : {}),
    rejectUnauthorized: !opts.insecureSkipVerify,
  };
}

/** An undici dispatcher with those TLS settings. */
export function tlsDispatcher(opts: TlsSettings): Dispatcher {
  return new Agent({ connect: tlsConnectOptions(opts) });
}

/**
 * One JSON call. `ep.timeoutMs` 0 means no client-side timeout at all, for calls that take as long as
 * Qdrant needs (creating a large snapshot): pair it with a dispatcher whose headers and body timeouts
 * are 0 too. Every `peer_id` keeps its exact decimal text (Qdrant's peer ids are u64s, which lose
 * digits as JS numbers beyond 2^53), so callers type it as a string.
 */
export async function qdrantJson<T>(ep: QdrantEndpoint, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (ep.apiKey) headers["api-key"] = ep.apiKey;
  if (body !== undefined) headers["content-type"] = "application/json";
  const where = `${method} ${ep.url}${path}`;
  let text: string;
  let res: Awaited<ReturnType<typeof fetch>>;
  try {
    res = await fetch(`${ep.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      ...(ep.dispatcher ? { dispatcher: ep.dispatcher } : {}),
      ...(ep.timeoutMs > 0 ? { signal: AbortSignal.timeout(ep.timeoutMs) } : {}),
    });
    text = await res.text();
  } catch (err) {
    const why = err instanceof Error && err.name === "TimeoutError" ? `no answer within ${ep.timeoutMs} ms` : describeFetchError(err);
    throw new OperatorError("QDRANT_UNREACHABLE", `${where}: ${why}`, { cause: err });
  }
  if (!res.ok) throw qdrantError(res.status, text, where);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, exactPeerIds);
  } catch (err) {
    throw new OperatorError("QDRANT_API_ERROR", `${where}: the answer is not JSON (${(err as Error).message})`);
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
  if (status === 401 || status === 403) return new OperatorError("QDRANT_UNAUTHORIZED", `${where}: ${status} ${message}`);
  if (status === 404) return new OperatorError("QDRANT_NOT_FOUND", `${where}: ${message}`);
  return new OperatorError("QDRANT_API_ERROR", `${where}: ${status} ${message}`);
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
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ""}`;
  return cause?.message ? `${err.message}: ${cause.message}` : err.message;
}
