/**
 * A counting reverse proxy in front of the apiserver, for tests that assert how many requests the
 * manager makes (not how many the shared apiserver serves: other test files run beside this one). It
 * listens on plain HTTP on 127.0.0.1, forwards every request (headers, the manager's token, streamed
 * bodies and watches) to the apiserver over TLS, and records method and path of each.
 *
 * {@link ApiserverCounter.outage} makes it an apiserver restart as the manager sees one: every open
 * connection (watches included) is dropped, and every new one is reset at once, counted, until
 * {@link ApiserverCounter.recover}. The shared apiserver itself never goes down (other test files use it).
 */
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { request } from "node:https";
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";

export interface Recorded {
  method: string;
  /** The path without the query. */
  path: string;
  query: string;
  /** When it arrived (ms since the epoch): a bench reads rates over a window from it. */
  at: number;
}

export class ApiserverCounter {
  readonly requests: Recorded[] = [];
  /** Connections reset during outages: the manager's attempts to reach the apiserver while it was "down". */
  refusedConnections = 0;
  readonly #server: Server;
  #url = "";
  #down = false;

  private constructor(upstream: URL, ca: Buffer | undefined) {
    this.#server = createServer((req, res) => {
      const [path = "", query = ""] = (req.url ?? "").split("?", 2);
      this.requests.push({ method: req.method ?? "", path, query, at: Date.now() });
      const up = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, ...(ca ? { ca } : {}) },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          res.flushHeaders();
          upRes.pipe(res);
        },
      );
      up.on("error", () => res.destroy());
      res.on("close", () => up.destroy());
      req.pipe(up);
    });
    this.#server.on("connection", (socket) => {
      if (!this.#down) return;
      this.refusedConnections++;
      socket.resetAndDestroy();
    });
  }

  /** Drops every connection and resets every new one until {@link recover}. */
  outage(): void {
    this.#down = true;
    this.#server.closeAllConnections();
  }

  recover(): void {
    this.#down = false;
  }

  /**
   * Starts a proxy to the cluster of `kubeconfig` and writes a copy of that kubeconfig pointing at it
   * (same user and token, plain HTTP to the proxy); returns the proxy and the new kubeconfig's path.
   */
  static async for(kubeconfig: string): Promise<{ counter: ApiserverCounter; kubeconfig: string }> {
    const config = parse(await readFile(kubeconfig, "utf8")) as { clusters: Array<{ cluster: Record<string, unknown> }> };
    const cluster = config.clusters[0]!.cluster;
    const caData = cluster["certificate-authority-data"];
    const caFile = cluster["certificate-authority"];
    const ca = typeof caData === "string" ? Buffer.from(caData, "base64") : typeof caFile === "string" ? await readFile(caFile) : undefined;
    const counter = new ApiserverCounter(new URL(String(cluster.server)), ca);
    await new Promise<void>((resolve) => counter.#server.listen(0, "127.0.0.1", resolve));
    const address = counter.#server.address();
    counter.#url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    // The client library refuses plain HTTP unless told not to verify TLS (there is none to the proxy).
    config.clusters[0]!.cluster = { server: counter.#url, "insecure-skip-tls-verify": true };
    const path = join(dirname(kubeconfig), "kubeconfig-via-counter.yaml");
    await writeFile(path, stringify(config), { mode: 0o600 });
    return { counter, kubeconfig: path };
  }

  count(pred: (r: Recorded) => boolean): number {
    let n = 0;
    for (const r of this.requests) if (pred(r)) n++;
    return n;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
