/**
 * Typed client for the emulator's admin (fault) API, for tests. Real Qdrant has no such API: tests that use
 * it only run against the emulator.
 */
import type { FileInfo } from "./admin-server.ts";
import type { Fault, FaultSpec } from "./faults.ts";

export type { Fault, FaultSpec } from "./faults.ts";
export type { FileInfo } from "./admin-server.ts";
export type { SettleSetting } from "./recovery-settle.ts";
export type { CollectionStatusSetting } from "./collection-health.ts";

export interface PeerInfo {
  /** 1-based peer number (peer n listens on 127.0.0.n). */
  number: number;
  id: number;
  url: string;
  p2pUri: string;
  up: boolean;
}

export interface PeerFiles {
  /** Files under the peer's snapshots directory (collection snapshots, `.checksum` files, shard snapshots, full snapshots). */
  snapshots: FileInfo[];
  /** Files under the peer's temp directory (partial uploads/downloads, archives being built). */
  tmp: FileInfo[];
}

export class AdminClient {
  private readonly base: string;

  constructor(adminUrl: string) {
    this.base = adminUrl.replace(/\/$/, "");
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`admin ${method} ${path}: ${res.status} ${json.error ?? ""}`);
    return json;
  }

  /** Adds any fault. */
  addFault(spec: FaultSpec): Promise<Fault> {
    return this.call("POST", "/faults", spec);
  }

  /** The next `count` matching requests get `status` with `message` as the error text. */
  failNext(route: { method?: string; path: string; peer?: number }, status: number, message: string, count = 1): Promise<Fault> {
    return this.addFault({ ...route, action: "fail", status, message, count });
  }

  /** The next `count` matching requests wait `delayMs` before being handled. */
  delayNext(route: { method?: string; path: string; peer?: number }, delayMs: number, count = 1): Promise<Fault> {
    return this.addFault({ ...route, action: "delay", delayMs, count });
  }

  /** The next `count` matching downloads are cut after `afterBytes` bytes of body. */
  cutNext(route: { method?: string; path: string; peer?: number }, afterBytes: number, count = 1): Promise<Fault> {
    return this.addFault({ ...route, action: "cut", afterBytes, count });
  }

  faults(): Promise<Fault[]> {
    return this.call("GET", "/faults");
  }

  async clearFaults(): Promise<void> {
    await this.call("DELETE", "/faults");
  }

  /**
   * Removes one fault (a test on the shared emulator removes only its own, never all); false when it was
   * gone already (fired as often as its count).
   */
  async removeFault(id: number): Promise<boolean> {
    const res = await fetch(`${this.base}/faults/${id}`, { method: "DELETE" });
    await res.body?.cancel();
    if (res.status !== 200 && res.status !== 404) throw new Error(`admin DELETE /faults/${id}: ${res.status}`);
    return res.status === 200;
  }

  peers(): Promise<PeerInfo[]> {
    return this.call("GET", "/peers");
  }

  async peerDown(peer: number): Promise<void> {
    await this.call("POST", `/peers/${peer}/down`);
  }

  async peerUp(peer: number): Promise<void> {
    await this.call("POST", `/peers/${peer}/up`);
  }

  /**
   * After a recover into `collection` (every collection when absent) on a distributed cluster, its
   * restored replicas report ManualRecovery and their points are missing from counts for `ms`, as on a
   * Qdrant whose activation proposal has not committed yet; `ms` 0 turns it off and activates the
   * replicas of windows still open at once. On the shared emulator, always name the test's own collection.
   */
  async recoverySettle(ms: number, collection?: string): Promise<void> {
    await this.call("POST", "/recovery-settle", { ms, ...(collection !== undefined ? { collection } : {}) });
  }

  /**
   * Makes `GET /collections/{collection}` report `status: "yellow"`, `optimizer_status: "ok"` — what Qdrant
   * reports while it optimizes (its optimizer_status has no "running" value) — until
   * {@link releaseCollection}. May be set before the collection exists. On the shared emulator, name only
   * the test's own collection.
   */
  async holdOptimizing(collection: string): Promise<void> {
    await this.call("POST", "/collection-status", { collection, status: "yellow" });
  }

  /** Makes the collection report `status: "red"`, `optimizer_status: {error}` (an optimizer failed) until released. */
  async failOptimizer(collection: string, error: string): Promise<void> {
    await this.call("POST", "/collection-status", { collection, status: "red", error });
  }

  /** Any held status (`grey`: optimizations pending, not triggered since a restart); `green` releases. */
  async collectionStatus(setting: { collection: string; status: "yellow" | "grey" | "red" | "green"; error?: string }): Promise<void> {
    await this.call("POST", "/collection-status", setting);
  }

  /** Ends a hold: the collection reports `green`/`ok` again. False when it had none. */
  async releaseCollection(collection: string): Promise<boolean> {
    return (await this.call<{ released: boolean }>("DELETE", `/collection-status/${encodeURIComponent(collection)}`)).released;
  }

  /** Files on a peer's disk, to assert that no orphaned snapshot or temp file is left. */
  files(peer: number): Promise<PeerFiles> {
    return this.call("GET", `/peers/${peer}/files`);
  }
}
