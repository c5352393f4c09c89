/**
 * The Qdrant a test runs against: the environment's (the standalone emulator and the 3-peer emulated
 * cluster that `npm test` starts, or the real Qdrant that `QDRANT_URL` / `QDRANT_PEERS` / `QDRANT_API_KEY`
 * name), shared by every test file at once. So a test owns only what it names: fresh collections (and
 * aliases) with unique names, created and seeded through the operator's own Qdrant adapter (which works
 * the same on a real Qdrant) and deleted when the test ends; it never lists or deletes "all collections".
 *
 * The emulator's extras (fault injection, peers down and up, its files on disk) exist only when the
 * environment runs the emulator: a test that needs them calls {@link needsEmulatorFaults} (or asks the
 * backup world for `ownEmulator`, which calls it), which skips it with the reason when Qdrant is real.
 * `grep -rn "needsEmulatorFaults\|ownEmulator" e2e test` lists those tests.
 */
import { randomBytes } from "node:crypto";
import type { TestContext } from "node:test";
import { QdrantApi, type CollectionConfig, type PointStruct, type ScrollRequest } from "../../src/qdrant/client.ts";
import { AdminClient } from "../emulator/admin-client.ts";
import { testEnv } from "./testenv.ts";

export interface QdrantUnderTest {
  /** A standalone Qdrant's REST URL (with QDRANT_PEERS only, the first peer's). */
  url: string;
  /** Every peer's REST URL of a distributed Qdrant; empty when there is none. */
  peers: string[];
  /** The key Qdrant requires, when it requires one (the environment's emulator requires none). */
  apiKey?: string;
  /** True when QDRANT_URL names a real Qdrant instead of the environment's emulator. */
  external: boolean;
}

/** The environment's Qdrant; fails naming what to set when the environment has none. */
export function qdrantUnderTest(): QdrantUnderTest {
  const q = testEnv().qdrant;
  if (!q) throw new Error("the test environment has no Qdrant: set QDRANT_URL (and QDRANT_PEERS, QDRANT_API_KEY) or let `npm test` start the emulator");
  return { url: q.url || (q.peers[0] ?? ""), peers: q.peers, ...(q.apiKey ? { apiKey: q.apiKey } : {}), external: testEnv().external.qdrant };
}

/**
 * The key a test puts in its Qdrant Secret: the Qdrant's own, or (when it requires none, as the
 * environment's emulator does not) a random one, which such a Qdrant ignores.
 */
export function apiKeyForSecret(): string {
  return qdrantUnderTest().apiKey ?? `qk-${randomBytes(12).toString("hex")}`;
}

/** The operator's adapter for `url` (the standalone Qdrant by default) with the environment's key. */
export function qdrantApi(url = qdrantUnderTest().url): QdrantApi {
  const apiKey = qdrantUnderTest().apiKey;
  return new QdrantApi({ url, timeoutMs: 30_000, ...(apiKey ? { apiKey } : {}) });
}

export interface EmulatorFaults {
  /** The standalone emulator's admin API. */
  admin: AdminClient;
  /** The 3-peer emulated cluster's admin API. */
  clusterAdmin: AdminClient;
}

/**
 * Thrown by {@link needsEmulatorFaults} and {@link needsDistributedQdrant} after they skipped the test: it
 * ends the test, which Node's runner reports as skipped (a skipped test that throws stays skipped).
 */
export class TestSkipped extends Error {
  override name = "TestSkipped";
}

function skipHere(t: TestContext, message: string): never {
  t.skip(message);
  throw new TestSkipped(message);
}

/**
 * The distributed Qdrant's peers (the environment's 3-peer emulated cluster, or QDRANT_PEERS); skips and
 * ends the test when there is none (QDRANT_URL without QDRANT_PEERS).
 */
export function needsDistributedQdrant(t: TestContext): string[] {
  const { peers } = qdrantUnderTest();
  if (peers.length === 0) skipHere(t, "needs a distributed Qdrant: set QDRANT_PEERS to every peer's REST address");
  return peers;
}

/**
 * The environment's emulator admin APIs (faults, peers down and up, files on its peers' disks, exact
 * snapshots). When Qdrant is real (QDRANT_URL) it skips the test with `why` and ends it (throws
 * {@link TestSkipped}; Node's runner reports a skipped test that throws as skipped), so it never returns
 * there. The emulator is shared by every test file: scope a fault to the test's own collection (a concrete
 * path such as `/collections/<name>/snapshots`), never a bare route template.
 */
export function needsEmulatorFaults(t: TestContext, why: string): EmulatorFaults {
  const q = testEnv().qdrant;
  if (!q?.adminUrl || !q.clusterAdminUrl) skipHere(t, `emulator-only: ${why} (the Qdrant under test is not the environment's emulator)`);
  return { admin: new AdminClient(q.adminUrl), clusterAdmin: new AdminClient(q.clusterAdminUrl) };
}

let counter = 0;

/**
 * A collection (or alias) name no other test, file or run uses on the shared Qdrant: `prefix`, then the
 * pid, a counter and random hex (Qdrant allows letters, digits, `_` and `-`).
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++counter}_${randomBytes(3).toString("hex")}`;
}

/** The points every seeded collection holds: 4-d vectors, payload `{ n }`, ids 1..count. */
export function seedPoints(count: number): PointStruct[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, vector: [Math.sin(i), Math.cos(i), i / count, 1], payload: { n: i } }));
}

export interface UseCollectionOptions {
  /** How many points to seed (default 20), upserted in batches of 100. */
  points?: number;
  /** The collection's config (default 4-d Cosine vectors). */
  config?: CollectionConfig;
  /** Which Qdrant (default the standalone one); a peer's URL for the distributed one. */
  url?: string;
}

/**
 * Creates a uniquely named collection on the shared Qdrant, seeds it, and deletes it when the test ends
 * (a real Qdrant keeps what a test leaves). Returns its name.
 */
export async function useCollection(t: TestContext, prefix: string, opts: UseCollectionOptions = {}): Promise<string> {
  const api = qdrantApi(opts.url);
  const name = uniqueName(prefix);
  await api.createCollection(name, opts.config ?? { vectors: { size: 4, distance: "Cosine" } });
  t.after(() => api.deleteCollection(name).then(() => undefined));
  const points = seedPoints(opts.points ?? 20);
  for (let start = 0; start < points.length; start += 100) await api.upsert(name, points.slice(start, start + 100));
  return name;
}

/** Every point of `collection` (payloads and vectors), in id order, page by page through the adapter. */
export async function allPoints(collection: string, opts: { url?: string; apiKey?: string } = {}): Promise<unknown[]> {
  const apiKey = opts.apiKey ?? qdrantUnderTest().apiKey;
  const api = new QdrantApi({ url: opts.url ?? qdrantUnderTest().url, timeoutMs: 30_000, ...(apiKey ? { apiKey } : {}) });
  const out: unknown[] = [];
  let offset: ScrollRequest["offset"] = null;
  do {
    const page = await api.scroll(collection, { limit: 100, with_payload: true, with_vector: true, ...(offset !== null && offset !== undefined ? { offset } : {}) });
    out.push(...page.points);
    offset = page.next_page_offset;
  } while (offset !== undefined && offset !== null);
  return out;
}
