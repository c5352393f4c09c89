/**
 * The kubelet's HTTPS port, as far as the API server uses it here: `GET /containerLogs/{ns}/{pod}/{c}`
 * (what `kubectl logs` is proxied to, with follow, tailLines, timestamps, limitBytes, sinceSeconds,
 * sinceTime, previous and stream) and `/healthz`. Clients must present a certificate from the cluster
 * CA (the API server's kubelet-client certificate); anything signed by it is trusted, as there is no
 * authorization webhook here.
 */
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LogStream } from "./container-log.ts";
import type { Logger } from "./logger.ts";
import { readLog, type LogOptions } from "./log-reader.ts";
import type { PodManager } from "./pod-source.ts";

export interface KubeletServerOptions {
  port: number;
  cert: string;
  key: string;
  clientCa: string;
}

function intParam(q: URLSearchParams, name: string): number | undefined | "invalid" {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : "invalid";
}

const boolParam = (q: URLSearchParams, name: string) => ["true", "1"].includes(q.get(name) ?? "");

/** PodLogOptions from the query, as the kubelet decodes them; a string is a 400 message. */
export function parseLogQuery(q: URLSearchParams, now = Date.now()): (LogOptions & { previous: boolean }) | string {
  if (q.get("tail") && !q.get("tailLines")) q.set("tailLines", q.get("tail") === "all" ? "" : q.get("tail")!);
  const tailLines = intParam(q, "tailLines");
  const limitBytes = intParam(q, "limitBytes");
  const sinceSeconds = intParam(q, "sinceSeconds");
  if (tailLines === "invalid" || limitBytes === "invalid" || sinceSeconds === "invalid") return '{"message": "Unable to decode query."}';
  if (limitBytes === 0 || sinceSeconds === 0) return '{"message": "Invalid request."}';
  const sinceTime = q.get("sinceTime");
  if (sinceTime && sinceSeconds !== undefined) return '{"message": "Invalid request."}';
  let since: Date | undefined;
  if (sinceSeconds !== undefined) since = new Date(now - sinceSeconds * 1000);
  else if (sinceTime) {
    since = new Date(sinceTime);
    if (Number.isNaN(since.getTime())) return '{"message": "Unable to decode query."}';
  }
  const stream = q.get("stream") ?? "All";
  const streams: Record<string, LogStream[] | undefined> = { All: undefined, Stdout: ["stdout"], Stderr: ["stderr"] };
  if (!(stream in streams)) return `invalid stream type "${stream}"`;
  const selected = streams[stream];
  return {
    follow: boolParam(q, "follow"),
    previous: boolParam(q, "previous"),
    timestamps: boolParam(q, "timestamps"),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
    ...(since ? { since } : {}),
    ...(selected ? { streams: selected } : {}),
  };
}

function fail(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { "content-type": "text/plain; charset=utf-8" });
  res.end(message);
}

async function containerLogs(pods: PodManager, url: URL, parts: string[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const [namespace, podName, container] = parts.map(decodeURIComponent);
  if (!podName) return fail(res, 400, '{"message": "Missing podID."}');
  if (!container) return fail(res, 400, '{"message": "Missing container name."}');
  const opts = parseLogQuery(url.searchParams);
  if (typeof opts === "string") return fail(res, 400, opts);
  const worker = pods.byName(namespace ?? "", podName);
  if (!worker) return fail(res, 404, `pod "${podName}" does not exist`);
  const source = worker.logSource(container, opts.previous);
  if ("error" in source) return fail(res, source.code, source.error);
  const abort = new AbortController();
  req.on("close", () => abort.abort());
  res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
  res.flushHeaders();
  try {
    await readLog(
      source.path,
      opts,
      (chunk) => new Promise<void>((resolve) => (res.write(chunk) ? resolve() : res.once("drain", () => resolve()))),
      opts.follow ? source.writer : undefined,
      abort.signal,
    );
  } catch (err) {
    // The file of a container that never wrote anything may not exist: that is an empty log.
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") res.write(`\nerror reading log: ${(err as Error).message}\n`);
  }
  res.end();
}

export function startKubeletServer(opts: KubeletServerOptions, pods: PodManager, log: Logger): Promise<Server> {
  const server = createServer({ cert: opts.cert, key: opts.key, ca: opts.clientCa, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://node");
    const parts = url.pathname.split("/").filter(Boolean);
    if (req.method !== "GET") return fail(res, 405, "method not allowed");
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok");
      return;
    }
    if (parts[0] === "containerLogs" && parts.length === 4) {
      containerLogs(pods, url, parts.slice(1), req, res).catch((err: unknown) => {
        log.warn({ err: String(err), path: url.pathname }, "Serving container logs failed");
        if (!res.headersSent) fail(res, 500, String(err));
        else res.end();
      });
      return;
    }
    fail(res, 404, "404 page not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      log.info({ port: opts.port }, "Started kubelet server");
      resolve(server);
    });
  });
}
