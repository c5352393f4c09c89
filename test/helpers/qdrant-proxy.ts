/**
 * A pass-through HTTP proxy in front of one Qdrant that records the method and path of every request it
 * forwards (bodies stream through untouched, snapshot downloads and uploads included). A test puts it where
 * a Qdrant of its own would be and checks afterwards that what it ran really talked to it.
 *
 * With `throttle`, the bodies of the requests it matches (a snapshot download's answer, an upload's
 * request) pass at that rate, both ways: a slow link, so that a test can act while a transfer is half
 * done (stop the object storage mid-upload). Only the pace changes, never a byte.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline, Transform } from "node:stream";

export interface QdrantProxy {
  url: string;
  /** `METHOD /path` of every request forwarded, the query left off, in order. */
  requests: string[];
  /** Bytes of throttled bodies passed on so far, both ways. */
  throttledBytes(): number;
  close(): Promise<void>;
}

export interface QdrantProxyOptions {
  throttle?: { bytesPerSecond: number; match: (method: string, path: string) => boolean };
}

/** Passes bytes at `bytesPerSecond`, in 64 KiB steps. */
function throttled(bytesPerSecond: number, passed: (n: number) => void): Transform {
  const step = 64 * 1024;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < chunk.length; i += step) pieces.push(chunk.subarray(i, i + step));
      const next = (): void => {
        const piece = pieces.shift();
        if (!piece) return done();
        this.push(piece);
        passed(piece.length);
        setTimeout(next, (piece.length / bytesPerSecond) * 1000);
      };
      next();
    },
  });
}

export async function startQdrantProxy(target: string, opts: QdrantProxyOptions = {}): Promise<QdrantProxy> {
  const up = new URL(target);
  const requests: string[] = [];
  let throttledBytes = 0;
  const count = (n: number): void => void (throttledBytes += n);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0] ?? "";
    requests.push(`${req.method ?? ""} ${path}`);
    const slow = opts.throttle?.match(req.method ?? "", path) ? opts.throttle.bytesPerSecond : undefined;
    const upstream = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } }, (ures) => {
      res.writeHead(ures.statusCode ?? 502, ures.headers);
      if (slow === undefined) ures.pipe(res);
      else pipeline(ures, throttled(slow, count), res, () => undefined);
    });
    upstream.on("error", () => res.destroy());
    // A client that goes away mid-upload: the upstream request is cut too, as Qdrant would see it.
    if (slow === undefined) req.pipe(upstream);
    else pipeline(req, throttled(slow, count), upstream, (err) => err && res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    throttledBytes: () => throttledBytes,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
