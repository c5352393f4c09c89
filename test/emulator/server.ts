/**
 * The per-peer HTTP front: routing, api-key checks, fault injection, response counters for /metrics, and
 * turning handler results and errors into Qdrant's envelopes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { authorize, type AuthConfig } from "./auth.ts";
import type { Cluster } from "./cluster.ts";
import { asQdrantError, QdrantError } from "./errors.ts";
import type { FaultRegistry } from "./faults.ts";
import { sendAccepted, sendError, sendJson, sendOk } from "./http-util.ts";
import type { PeerNode } from "./peer.ts";
import { pathSegments, type Router, type RouteContext } from "./router.ts";

export interface ServerDeps {
  cluster: Cluster;
  peer: PeerNode;
  router: Router;
  faults: FaultRegistry;
  auth: AuthConfig;
}

function countResponse(peer: PeerNode, key: string, status: number): void {
  let byStatus = peer.stats.responses.get(key);
  if (byStatus === undefined) {
    byStatus = new Map();
    peer.stats.responses.set(key, byStatus);
  }
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
}

async function handle(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = process.hrtime.bigint();
  const url = new URL(req.url ?? "/", "http://localhost");
  const method = (req.method ?? "GET").toUpperCase();
  const segments = pathSegments(url.pathname);
  const matched = segments === undefined ? { methodMismatch: false } : deps.router.match(method === "HEAD" ? "GET" : method, segments);
  const found = matched.found;
  if (found === undefined) {
    // actix's default for an unknown resource: an empty 404 (405 when only the method is wrong).
    res.writeHead(matched.methodMismatch ? 405 : 404, { "content-length": 0 });
    res.end();
    return;
  }
  const { route, params } = found;
  res.once("finish", () => countResponse(deps.peer, `${method} ${route.template}`, res.statusCode));

  const auth = authorize(req, route.access, deps.auth);
  if (!auth.ok) {
    if (auth.status === 401) {
      res.writeHead(401, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(auth.text) });
      res.end(auth.text);
    } else {
      sendError(res, new QdrantError(403, auth.json), started, route.binary);
    }
    return;
  }

  const concretePath = `/${(segments ?? []).join("/")}`;
  const faults = deps.faults.take(method, concretePath, route.template, deps.peer.index + 1);
  const downs = deps.peer.downs;
  for (const f of faults) if (f.action === "delay") await sleep(f.delayMs ?? 0);
  // Taken down while the request was held (admin /peers/{n}/down), even if up again since: a killed
  // Qdrant does nothing more with a request it had not begun, so neither does the emulator (no snapshot
  // made behind the client's back, no recover after the connection dropped).
  if (!deps.peer.up || deps.peer.downs !== downs) {
    res.destroy();
    return;
  }
  const fail = faults.find((f) => f.action === "fail");
  if (fail !== undefined) {
    sendError(res, new QdrantError(fail.status ?? 500, fail.message ?? "Service internal error: injected fault"), started, route.binary);
    return;
  }
  const ctx: RouteContext = {
    req,
    res,
    params,
    query: url.searchParams,
    peer: deps.peer,
    cluster: deps.cluster,
    started,
    cutAfterBytes: faults.find((f) => f.action === "cut")?.afterBytes,
  };
  try {
    const result = await route.handler(ctx);
    if ("ok" in result) sendOk(res, result.ok, started);
    else if ("accepted" in result) sendAccepted(res, started);
  } catch (err) {
    sendError(res, asQdrantError(err), started, route.binary);
  }
}

export function requestHandler(deps: ServerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { status: { error: `Service internal error: ${String(err)}` }, time: 0 });
      else res.destroy();
    });
  };
}
