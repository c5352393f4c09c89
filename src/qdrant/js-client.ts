/**
 * @qdrant/js-client-rest (1.19.0) for the calls it makes well: collections, aliases, points, count,
 * query. We call its typed OpenAPI functions (`client.api().…`), not its high-level methods, because only
 * those take a per-call RequestInit, which carries the two things the adapter needs on every call:
 * - the call's signal (its timeout combined with the caller's abort signal). The client is built with an
 *   infinite timeout so that its own timeout middleware, which would replace our signal with its own,
 *   is not installed;
 * - the endpoint's dispatcher (a private CA, the Job's own keep-alive pool), overriding the undici Agent
 *   the client creates for itself.
 * Other settings: the API key goes as a plain header (the client's `apiKey` option switches to https and
 * warns on http), the version check at construction is off (its GET / would be a call outside any
 * deadline; the connection check reads the version itself), a URL path becomes the client's prefix
 * (the client keeps only the URL's host and port), and a URL without a port gets its scheme's (the
 * client's default is 6333).
 */
import { QdrantClient, QdrantClientResourceExhaustedError, QdrantClientUnexpectedResponseError } from "@qdrant/js-client-rest";
import { getGlobalDispatcher } from "undici";
import { OperatorError } from "../errors.ts";
import { qdrantError, type CallDeadline, type QdrantEndpoint } from "./rest.ts";

export type OpenApi = ReturnType<QdrantClient["api"]>;

/** The typed OpenAPI functions of a js-client aimed at `ep`. */
export function openApiFor(ep: QdrantEndpoint): OpenApi {
  const u = new URL(ep.url);
  const prefix = u.pathname.replace(/\/+$/, "");
  const client = new QdrantClient({
    url: `${u.protocol}//${u.host}`,
    // Without a port in the URL the client would take 6333, not the scheme's.
    port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80,
    ...(prefix ? { prefix } : {}),
    timeout: Number.POSITIVE_INFINITY,
    checkCompatibility: false,
    ...(ep.apiKey ? { headers: { "api-key": ep.apiKey } } : {}),
  });
  return client.api();
}

/** What one js-client call is: its description for messages, and the call given its RequestInit. */
export interface JsCall<T> {
  method: string;
  path: string;
  send: (init: RequestInit) => Promise<{ data: { result?: T } }>;
}

/**
 * Runs one js-client call under `deadline` and maps what it throws to the operator's coded errors: an
 * error answer (its ApiError, with status and parsed body) as qdrantError does for raw calls; a stopped
 * caller as the caller's reason; a timeout or broken transport as QdrantUnreachable.
 */
export async function viaJsClient<T>(ep: QdrantEndpoint, deadline: CallDeadline, call: JsCall<T>): Promise<T> {
  const where = `${call.method} ${ep.url}${call.path}`;
  deadline.throwIfStopped();
  const init = {
    dispatcher: ep.dispatcher ?? getGlobalDispatcher(),
    ...(deadline.signal ? { signal: deadline.signal } : {}),
  } as RequestInit;
  let res: { data: { result?: T } };
  try {
    res = await call.send(init);
  } catch (err) {
    const answer = errorAnswer(err);
    if (answer) throw qdrantError(answer.status, typeof answer.data === "string" ? answer.data : JSON.stringify(answer.data ?? ""), where);
    if (err instanceof QdrantClientResourceExhaustedError) throw new OperatorError("QDRANT_API_ERROR", `${where}: 429 ${err.message} (retry after ${err.retry_after} s)`, { cause: err });
    if (err instanceof QdrantClientUnexpectedResponseError) throw new OperatorError("QDRANT_API_ERROR", `${where}: ${err.message}`, { cause: err });
    throw deadline.failure(err, where);
  }
  if (res.data.result === undefined) throw new OperatorError("QDRANT_API_ERROR", `${where}: the answer has no result`);
  return res.data.result;
}

/** The js-client's ApiError (not exported by it), recognised by its shape: an HTTP error answer. */
function errorAnswer(err: unknown): { status: number; data: unknown } | undefined {
  if (!(err instanceof Error) || !("status" in err) || !("data" in err) || !("headers" in err)) return undefined;
  return typeof err.status === "number" ? { status: err.status, data: err.data } : undefined;
}
