/**
 * A pass-through HTTP proxy that checks every JSON response it relays against the OpenAPI spec. Tests point
 * their clients (the official js client and raw fetch) at it, so "every JSON response is validated" holds
 * without hooks in the server, and works the same against a real Qdrant (QDRANT_URL). Non-JSON bodies
 * (snapshot downloads) stream through untouched.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import type { OpenApiValidator } from "./openapi-validator.ts";

export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  body?: unknown;
}

export interface RecordingProxy {
  url: string;
  /** Every response relayed, in order. */
  responses: RecordedResponse[];
  /** Spec violations found so far (one line each, with the offending body). */
  failures: string[];
  /** JSON responses of operations the spec does not describe; the test checks those itself. */
  undocumented: RecordedResponse[];
  /** How many JSON responses were checked. */
  jsonChecked(): number;
  close(): Promise<void>;
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(target: string, validator: OpenApiValidator, host = "127.0.0.1"): Promise<RecordingProxy> {
  const base = new URL(target);
  const responses: RecordedResponse[] = [];
  const failures: string[] = [];
  const undocumented: RecordedResponse[] = [];
  let checked = 0;
  const server: Server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const headers = { ...req.headers, host: base.host };
    const upstream = request({ hostname: base.hostname, port: base.port, path: req.url, method, headers }, (up) => {
      const contentType = up.headers["content-type"];
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const record: RecordedResponse = { method, path, status: up.statusCode ?? 0, contentType };
      responses.push(record);
      if ((contentType ?? "").startsWith("application/json")) {
        readAll(up)
          .then((buf) => {
            let body: unknown;
            try {
              body = JSON.parse(buf.toString("utf8"));
            } catch {
              failures.push(`${method} ${path} → ${record.status}: body is not JSON: ${buf.toString("utf8").slice(0, 200)}`);
            }
            record.body = body;
            checked++;
            const result = validator.validateResponse({ method, path, status: record.status, contentType, body });
            if (result.undocumented === true) undocumented.push(record);
            else if (!result.valid) failures.push(`${method} ${path} → ${record.status}: ${result.errors.join("; ")} body=${buf.toString("utf8").slice(0, 500)}`);
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(buf);
          })
          .catch(() => res.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      pipeline(up, res).catch(() => res.destroy());
    });
    upstream.on("error", () => res.destroy());
    pipeline(req, upstream).catch(() => upstream.destroy());
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    responses,
    failures,
    undocumented,
    jsonChecked: () => checked,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
