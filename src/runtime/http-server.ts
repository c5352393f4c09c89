/**
 * The manager's HTTP endpoints, for the kubelet's probes and Prometheus:
 *
 * - /healthz: 200 while the process serves requests (liveness: a wedged event loop fails it by timing out);
 * - /readyz: 200 when every check passes — caches synced, and leading or standing by as a candidate;
 *   the body lists each check so `curl` shows what is missing;
 * - /metrics: the manager's prom-client registry in Prometheus text format.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A named readiness check; returns undefined when ready, or why not. */
export interface ReadinessCheck {
  name: string;
  check(): string | undefined;
}

export interface HealthServerOptions {
  host: string;
  port: number;
  registry: Registry;
  readiness: ReadinessCheck[];
}

export class HealthServer {
  readonly #opts: HealthServerOptions;
  #server: Server | undefined;

  constructor(opts: HealthServerOptions) {
    this.#opts = opts;
  }

  /** Listens; resolves with the bound address (port 0 picks a free port). */
  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const send = (status: number, body: string, type = "text/plain; charset=utf-8") => {
        res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
        res.end(body);
      };
      if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed\n");
      if (path === "/healthz" || path === "/livez") return send(200, "ok\n");
      if (path === "/readyz") {
        const lines: string[] = [];
        let ready = true;
        for (const c of this.#opts.readiness) {
          const why = c.check();
          if (why !== undefined) ready = false;
          lines.push(why === undefined ? `[+]${c.name} ok` : `[-]${c.name} failed: ${why}`);
        }
        lines.push(ready ? "readyz check passed" : "readyz check failed");
        return send(ready ? 200 : 503, lines.join("\n") + "\n");
      }
      if (path === "/metrics") {
        this.#opts.registry.metrics().then(
          (text) => send(200, text, this.#opts.registry.contentType),
          (err: unknown) => send(500, `collecting metrics failed: ${String(err)}\n`),
        );
        return;
      }
      send(404, "not found\n");
    });
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#opts.port, this.#opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
