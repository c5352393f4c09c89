/**
 * A small Kubernetes API client over node:https: JSON requests and watch streams. The agent uses raw JSON
 * so that read-modify-write of a Pod's status never loses fields a typed client does not model, and so a
 * watch is plainly a long GET whose lines are events (no hidden reconnects).
 */
import type { IncomingMessage } from "node:http";
import { Agent, request, type RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import type { ApiStatus, WatchEvent } from "./types.ts";

/** An error answer from the API server, with its HTTP status and Status reason. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
  }
}

export function isApiError(err: unknown, code: number): boolean {
  return err instanceof ApiError && err.code === code;
}

export interface RequestParams {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ApiClient {
  server: string;
  request<T>(path: string, params?: RequestParams): Promise<T>;
  /**
   * Streams watch events of `path` (which must carry `watch=1`) to `onEvent` until the server ends the
   * watch (its timeoutSeconds), the connection breaks, or `signal` aborts. Resolves in every case but a
   * failed request, which rejects with an ApiError.
   */
  watch<T>(path: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

function errorFromBody(code: number, text: string): ApiError {
  try {
    const status = JSON.parse(text) as ApiStatus;
    return new ApiError(code, status.reason ?? "", status.message ?? text);
  } catch {
    return new ApiError(code, "", text.slice(0, 500) || `HTTP ${code}`);
  }
}

/** Builds a client from a kubeconfig file (client-certificate auth, as the node's kubeconfig has). */
export async function createApiClient(kubeconfigPath: string): Promise<ApiClient> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`no current cluster in ${kubeconfigPath}`);
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new Agent({ keepAlive: true, ca: tls.ca, cert: tls.cert, key: tls.key, maxSockets: 32 });
  const base = new URL(cluster.server);

  function open(path: string, params: RequestParams): Promise<IncomingMessage> {
    const body = params.body === undefined ? undefined : Buffer.from(JSON.stringify(params.body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          path,
          method: params.method ?? "GET",
          agent,
          signal: params.signal,
          headers: {
            accept: "application/json",
            "user-agent": "qdrant-operator-node-agent",
            ...(body ? { "content-type": params.contentType ?? "application/json", "content-length": body.length } : {}),
          },
        },
        resolve,
      );
      req.on("error", reject);
      if (params.timeoutMs) req.setTimeout(params.timeoutMs, () => req.destroy(new Error(`request timed out after ${params.timeoutMs} ms: ${path}`)));
      req.end(body);
    });
  }

  async function readAll(res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  }

  return {
    server: cluster.server,
    async request<T>(path: string, params: RequestParams = {}): Promise<T> {
      const res = await open(path, { timeoutMs: 30_000, ...params });
      const text = await readAll(res);
      const code = res.statusCode ?? 0;
      if (code < 200 || code >= 300) throw errorFromBody(code, text);
      return (text ? JSON.parse(text) : {}) as T;
    },
    async watch<T>(path: string, onEvent: (event: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
      let res: IncomingMessage;
      try {
        res = await open(path, { signal });
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      const code = res.statusCode ?? 0;
      if (code !== 200) throw errorFromBody(code, await readAll(res));
      let buffered = "";
      try {
        for await (const chunk of res) {
          buffered += (chunk as Buffer).toString("utf8");
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as WatchEvent<T>);
          }
        }
      } catch (err) {
        // A watch broken by the network or by our own abort ends like one the server closed: the caller
        // re-watches from its last resourceVersion (or relists).
        if (!signal.aborted && !(err instanceof Error && "code" in err && err.code === "ECONNRESET")) throw err;
      }
    },
  };
}

/** Percent-encodes query parameters. */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join("&")}` : "";
}
