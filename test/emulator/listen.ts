/**
 * Binding helpers. Peers of a cluster must share one port across 127.0.0.1, 127.0.0.2, … (as StatefulSet
 * pods share a port on different hosts), so a free port is picked on the first host and retried until every
 * host can take it.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off("listening", onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Listens every server on its host with one common port (0 = any free one); returns the port. */
export async function listenAll(servers: Array<{ server: Server; host: string }>, port: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [first, ...rest] = servers;
    if (first === undefined) return port;
    const chosen = await listen(first.server, first.host, port);
    try {
      for (const s of rest) await listen(s.server, s.host, chosen);
      return chosen;
    } catch (err) {
      for (const s of servers) await close(s.server);
      const code = (err as NodeJS.ErrnoException).code;
      if (port !== 0 || code !== "EADDRINUSE") throw err;
    }
  }
  throw new Error("could not find a port free on every peer host");
}
