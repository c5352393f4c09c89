/**
 * A pass-through HTTP proxy in front of one Qdrant that records the method and path of every request it
 * forwards (bodies stream through untouched, snapshot downloads and uploads included). A test puts it where
 * a Qdrant of its own would be and checks afterwards that what it ran really talked to it.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface QdrantProxy {
  url: string;
  /** `METHOD /path` of every request forwarded, the query left off, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startQdrantProxy(target: string): Promise<QdrantProxy> {
  const up = new URL(target);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method ?? ""} ${(req.url ?? "").split("?")[0]}`);
    const upstream = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      ures.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
