/**
 * A small route table: path templates in Qdrant's own `{param}` syntax (the same strings as the OpenAPI
 * spec, which also label metrics and let faults target a route), the access level each route needs and
 * whether its errors are rendered as text (binary download routes).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Cluster } from "./cluster.ts";
import type { PeerNode } from "./peer.ts";

/** open: no key needed; read: any valid key; write: read-write key (read-only gets 403). */
export type AccessLevel = "open" | "read" | "write";

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  peer: PeerNode;
  cluster: Cluster;
  started: bigint;
  /** Set by a "cut" fault: the response body is cut after this many bytes. */
  cutAfterBytes: number | undefined;
}

/** ok: JSON envelope with `result`; accepted: 202 envelope; handled: the handler wrote the response. */
export type RouteResult = { ok: unknown } | { accepted: true } | { handled: true };

export interface Route {
  method: string;
  template: string;
  access: AccessLevel;
  /** Errors as text/plain (download routes); JSON envelope otherwise. */
  binary: boolean;
  handler: (ctx: RouteContext) => Promise<RouteResult>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

export function route(
  method: string,
  template: string,
  access: AccessLevel,
  handler: (ctx: RouteContext) => Promise<RouteResult>,
  binary = false,
): Route {
  return { method, template, access, binary, handler };
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split("/").slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    const seg = segments[i] ?? "";
    if (part.startsWith("{") && part.endsWith("}")) {
      if (seg === "") return undefined;
      params[part.slice(1, -1)] = seg;
    } else if (part !== seg) return undefined;
  }
  return params;
}

export class Router {
  private readonly routes: Route[] = [];

  add(...routes: Route[]): void {
    this.routes.push(...routes);
  }

  /**
   * Finds the route for a decoded path. Literal segments win over parameters (so `/collections/aliases`
   * is not read as a collection called "aliases"); `methodMismatch` tells a 405 from a 404.
   */
  match(method: string, segments: string[]): { found?: RouteMatch; methodMismatch: boolean } {
    let methodMismatch = false;
    let best: { found: RouteMatch; literals: number } | undefined;
    for (const r of this.routes) {
      const params = matchTemplate(r.template, segments);
      if (params === undefined) continue;
      if (r.method !== method) {
        methodMismatch = true;
        continue;
      }
      const literals = r.template.split("/").filter((p) => p !== "" && !p.startsWith("{")).length;
      if (best === undefined || literals > best.literals) best = { found: { route: r, params }, literals };
    }
    return best === undefined ? { methodMismatch } : { found: best.found, methodMismatch: false };
  }
}

/** Splits a raw request path into decoded segments; undefined when percent-encoding is invalid. */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split("/")
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}
