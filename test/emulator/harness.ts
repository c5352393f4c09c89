/**
 * Test harness: starts an emulator (or uses a real Qdrant when QDRANT_URL is set), puts a recording proxy in
 * front of every peer so each JSON response is checked against the OpenAPI spec, and hands out clients.
 */
import type { TestContext } from "node:test";
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, openAsBlob } from "node:fs";
import { basename } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { setTimeout as pause } from "node:timers/promises";
import { QdrantClient } from "@qdrant/js-client-rest";
import { AdminClient } from "./admin-client.ts";
import { startEmulator, type EmulatorHandle, type EmulatorOptions } from "./index.ts";
import { OpenApiValidator } from "./openapi-validator.ts";
import { startRecordingProxy, type RecordingProxy } from "./recording-proxy.ts";

/** Set to a real Qdrant's URL to run the suite against it (QDRANT_API_KEY for its key). */
export const REAL_QDRANT_URL = process.env.QDRANT_URL;

let validator: OpenApiValidator | undefined;
export function specValidator(): OpenApiValidator {
  validator ??= OpenApiValidator.load();
  return validator;
}

export interface TestTarget {
  /** Peer 1 through the validating proxy. */
  url: string;
  /** Every peer through its validating proxy. */
  peers: string[];
  /** Peers' own addresses (what the server itself would use, e.g. for recover locations). */
  directPeers: string[];
  apiKey: string | undefined;
  /** Admin API: emulator only. */
  admin: AdminClient | undefined;
  emulator: EmulatorHandle | undefined;
  proxies: RecordingProxy[];
  /** js client on peer `peer` (1-based), authenticating with `apiKey` (default: the target's key). */
  client(peer?: number, apiKey?: string | null): QdrantClient;
  /** Fails the test if any relayed JSON response broke the spec; returns how many were checked. */
  assertAllValid(): number;
  close(): Promise<void>;
}

export async function startTarget(opts: EmulatorOptions = {}): Promise<TestTarget> {
  let emulator: EmulatorHandle | undefined;
  let direct: string[];
  let apiKey: string | undefined;
  if (REAL_QDRANT_URL !== undefined) {
    direct = (process.env.QDRANT_PEERS ?? REAL_QDRANT_URL).split(",").map((s) => s.trim());
    apiKey = process.env.QDRANT_API_KEY;
  } else {
    emulator = await startEmulator(opts);
    direct = emulator.peers;
    apiKey = opts.apiKey;
  }
  let proxies: RecordingProxy[];
  try {
    proxies = await Promise.all(direct.map((u) => startRecordingProxy(u, specValidator())));
  } catch (err) {
    // An emulator left running keeps the test file's process alive until the runner's timeout.
    await emulator?.stop();
    throw err;
  }
  const peers = proxies.map((p) => p.url);
  return {
    url: peers[0] ?? "",
    peers,
    directPeers: direct,
    apiKey,
    admin: emulator === undefined ? undefined : new AdminClient(emulator.adminUrl),
    emulator,
    proxies,
    client(peer = 1, key?: string | null) {
      const useKey = key === null ? undefined : (key ?? apiKey);
      return new QdrantClient({
        url: peers[peer - 1] ?? "",
        checkCompatibility: false,
        // Passed as a header: `apiKey` would make the client warn about plain http on every construction.
        headers: useKey === undefined ? {} : { "api-key": useKey },
      });
    },
    assertAllValid() {
      const failures = proxies.flatMap((p) => p.failures);
      if (failures.length > 0) throw new Error(`responses outside the OpenAPI spec:\n${failures.join("\n")}`);
      return proxies.reduce((n, p) => n + p.jsonChecked(), 0);
    },
    async close() {
      await Promise.all(proxies.map((p) => p.close()));
      await emulator?.stop();
    },
  };
}

/**
 * Emulator-only features (faults, peers on demand, the admin API) cannot run against a real Qdrant; such
 * tests call this first and return when it says so, with the reason shown as the skip message.
 */
export function emulatorOnly(t: TestContext, why: string): boolean {
  if (REAL_QDRANT_URL === undefined) return false;
  t.skip(`needs the emulator: ${why}`);
  return true;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

export interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

/** Plain HTTP for what the js client cannot do (202 answers, text bodies, uploads). */
export async function raw(url: string, init: RequestInit & { apiKey?: string } = {}): Promise<RawResponse> {
  const headers = new Headers(init.headers);
  if (init.apiKey !== undefined) headers.set("api-key", init.apiKey);
  if (typeof init.body === "string" && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, contentType: res.headers.get("content-type"), text, json };
}

/** The `status.error` text of a Qdrant error envelope. */
export function errorText(r: RawResponse): string | undefined {
  const body = r.json as { status?: { error?: string } } | undefined;
  return body?.status?.error;
}

/** Extracts status and error text from an ApiError thrown by the js client. */
export async function clientError(p: Promise<unknown>): Promise<{ status: number; error: string | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { status?: number; data?: { status?: { error?: string } } };
    return { status: e.status ?? 0, error: e.data?.status?.error };
  }
  throw new Error("expected the call to fail");
}

/** Downloads a URL's body to a file (streamed); returns its SHA-256 and the response headers. */
export async function downloadTo(url: string, file: string, apiKey?: string): Promise<{ status: number; sha256: string; headers: Headers }> {
  const res = await fetch(url, { headers: apiKey === undefined ? {} : { "api-key": apiKey } });
  const hash = createHash("sha256");
  if (res.body === null) throw new Error("no body");
  await pipeline(
    Readable.fromWeb(res.body as WebReadableStream<Uint8Array>),
    new Transform({
      transform(chunk: Buffer, _e, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    }),
    createWriteStream(file),
  );
  return { status: res.status, sha256: hash.digest("hex"), headers: res.headers };
}

/** `POST …/snapshots/upload` with the file streamed as the multipart field `snapshot`. */
export async function uploadSnapshot(url: string, file: string, opts: { apiKey?: string; filename?: string } = {}): Promise<RawResponse> {
  const form = new FormData();
  form.append("snapshot", await openAsBlob(file), opts.filename ?? basename(file));
  return raw(url, { method: "POST", body: form, apiKey: opts.apiKey });
}

/** Every point of a collection (ids, payloads, vectors), in id order, through the js client. */
export async function allPoints(client: QdrantClient, collection: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let offset: unknown = undefined;
  for (;;) {
    const page = await client.scroll(collection, { limit: 100, offset: offset as number | undefined, with_payload: true, with_vector: true });
    out.push(...page.points);
    if (page.next_page_offset === null || page.next_page_offset === undefined) return out;
    offset = page.next_page_offset;
  }
}

/** Polls `check` until it returns true (used after 202 answers: the work finishes in the background). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await pause(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}
