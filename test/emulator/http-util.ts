/**
 * Response envelopes and request-body helpers shared by every route. Qdrant wraps all JSON answers in
 * `{result, status, time}`; errors carry `{status: {error}, time}` with no `result` key at all, and the binary
 * download routes answer errors as text/plain. Keeping those shapes in one place keeps every route faithful.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { formatError, queryFormatError, type QdrantError } from "./errors.ts";

/** Seconds since `started` (from `process.hrtime.bigint()`), as Qdrant reports `time`. */
export function elapsed(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendOk(res: ServerResponse, result: unknown, started: bigint): void {
  sendJson(res, 200, { result, status: "ok", time: elapsed(started) });
}

/** `?wait=false` answer: 202 with no `result`. */
export function sendAccepted(res: ServerResponse, started: bigint): void {
  sendJson(res, 202, { status: "accepted", time: elapsed(started) });
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Sends an error the way Qdrant does: JSON envelope (no `result`) on API routes, plain text on binary
 * download routes (actix's default ResponseError rendering). Validation errors report `time: 0`.
 */
export function sendError(
  res: ServerResponse,
  err: QdrantError,
  started: bigint,
  asText: boolean,
): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  if (asText) {
    sendText(res, err.status, err.message);
    return;
  }
  const headers: Record<string, string> = {};
  if (err.retryAfter !== undefined) headers["retry-after"] = String(err.retryAfter);
  const time = err.status === 422 ? 0 : elapsed(started);
  sendJson(res, err.status, { status: { error: err.message }, time }, headers);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads and parses a JSON body, failing with serde-like texts (400) as actix's Json extractor does. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = (await readBody(req)).toString("utf8");
  if (raw.trim() === "") throw formatError("EOF while parsing a value at line 1 column 0");
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw formatError("expected value at line 1 column 1");
  }
}

/** Reads a JSON body that must be an object (every Qdrant request body is a struct). */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJsonBody(req);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw formatError(`invalid type: ${describeJsonType(body)}, expected a map at line 1 column 1`);
  }
  return body as Record<string, unknown>;
}

/** serde's wording for the type of a JSON value ("invalid type: string \"x\", expected …"). */
export function describeJsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "sequence";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `integer \`${v}\`` : `floating point \`${v}\``;
  if (typeof v === "boolean") return `boolean \`${v}\``;
  return "map";
}

/** Parses a boolean query parameter (`wait`, `force`, …) with serde's error text for bad values. */
export function queryBool(query: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = query.get(name);
  if (v === null) return dflt;
  if (v === "true") return true;
  if (v === "false") return false;
  throw queryFormatError("provided string was not `true` or `false`");
}

/** Parses an optional unsigned integer query parameter such as `timeout`. */
export function queryUint(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw queryFormatError("invalid digit found in string");
  return Number(v);
}
