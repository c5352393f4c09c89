/**
 * Wires an emulated deployment together: the cluster state, one HTTP server per peer, the admin (fault)
 * server and the lifecycle operations tests need (take a peer down and up, stop everything).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createServer, type Server } from "node:http";
import { createAdminServer } from "./admin-server.ts";
import { Cluster } from "./cluster.ts";
import { FaultRegistry } from "./faults.ts";
import { close, listen, listenAll } from "./listen.ts";
import type { PeerNode } from "./peer.ts";
import { Router } from "./router.ts";
import { collectionRoutes } from "./routes-collections.ts";
import { pointRoutes } from "./routes-points.ts";
import { serviceRoutes } from "./routes-service.ts";
import { shardSnapshotRoutes } from "./routes-shard-snapshots.ts";
import { snapshotRoutes } from "./routes-snapshots.ts";
import { requestHandler } from "./server.ts";

export interface EmulatorOptions {
  /** REST port shared by every peer; 0/undefined picks a free one. */
  port?: number;
  /** Number of peers; 1 (default) is standalone mode. */
  peers?: number;
  apiKey?: string;
  readOnlyApiKey?: string;
  /** Persistent storage; a fresh temp dir (removed on stop) when absent. */
  dataDir?: string;
  /** Host of peer 1; peer i gets the same address with the last octet + (i-1). Default 127.0.0.1. */
  host?: string;
  /** Admin (fault) API port on 127.0.0.1 (or `host`); 0/undefined picks a free one. */
  adminPort?: number;
}

export interface EmulatorHandle {
  url: string;
  peers: string[];
  adminUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

/** Host of peer `index` (0-based): the base IPv4 address with its last octet shifted. */
export function peerHost(base: string, index: number): string {
  if (index === 0) return base;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(base);
  if (m === null) throw new Error(`peers > 1 need an IPv4 host to derive peer addresses from, got ${base}`);
  return `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + index}`;
}

export class Emulator {
  readonly cluster: Cluster;
  readonly faults = new FaultRegistry();
  readonly dataDir: string;
  private readonly tempDir: boolean;
  private readonly servers: Server[];
  private adminServer: Server | undefined;
  adminUrl = "";

  private constructor(cluster: Cluster, servers: Server[], dataDir: string, tempDir: boolean) {
    this.cluster = cluster;
    this.servers = servers;
    this.dataDir = dataDir;
    this.tempDir = tempDir;
  }

  static async start(opts: EmulatorOptions): Promise<Emulator> {
    const peerCount = opts.peers ?? 1;
    if (!Number.isInteger(peerCount) || peerCount < 1) throw new Error(`peers must be a positive integer, got ${peerCount}`);
    const base = opts.host ?? "127.0.0.1";
    const tempDir = opts.dataDir === undefined;
    const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "qdrant-emulator-"));
    fs.mkdirSync(dataDir, { recursive: true });
    const cluster = new Cluster({ dataDir, peerCount, port: opts.port ?? 0, hostOf: (i) => peerHost(base, i) });
    const router = new Router();
    router.add(...serviceRoutes(), ...collectionRoutes(), ...pointRoutes(), ...snapshotRoutes(), ...shardSnapshotRoutes());
    const emulator = new Emulator(cluster, [], dataDir, tempDir);
    const auth = { apiKey: opts.apiKey, readOnlyApiKey: opts.readOnlyApiKey };
    for (const peer of cluster.peers) {
      const server = createServer(requestHandler({ cluster, peer, router, faults: emulator.faults, auth }));
      // Long snapshot transfers must not be cut by Node's default request timeout.
      server.requestTimeout = 0;
      emulator.servers.push(server);
    }
    try {
      const port = await listenAll(emulator.servers.map((server, i) => ({ server, host: cluster.peers[i]?.host ?? base })), opts.port ?? 0);
      for (const peer of cluster.peers) peer.port = port;
      emulator.adminServer = createAdminServer(emulator);
      const adminPort = await listen(emulator.adminServer, base, opts.adminPort ?? 0);
      emulator.adminUrl = `http://${base}:${adminPort}`;
    } catch (err) {
      await emulator.stop();
      throw err;
    }
    return emulator;
  }

  peer(number: number): PeerNode {
    const peer = this.cluster.peers[number - 1];
    if (peer === undefined) throw new Error(`no peer ${number}`);
    return peer;
  }

  /** Stops a peer's REST server (connections refused) and treats its replicas as unreachable. */
  async peerDown(number: number): Promise<void> {
    const peer = this.peer(number);
    const server = this.servers[number - 1];
    peer.up = false;
    peer.downs += 1;
    if (server !== undefined) await close(server);
  }

  /** Restarts a peer's REST server on the same address; its missed writes are re-synced. */
  async peerUp(number: number): Promise<void> {
    const peer = this.peer(number);
    const server = this.servers[number - 1];
    if (server !== undefined && !server.listening) await listen(server, peer.host, peer.port);
    peer.up = true;
    this.cluster.resyncPeer(peer);
  }

  handle(): EmulatorHandle {
    const peers = this.cluster.peers.map((p) => p.url);
    return {
      url: peers[0] ?? "",
      peers,
      adminUrl: this.adminUrl,
      dataDir: this.dataDir,
      stop: () => this.stop(),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => close(s)));
    if (this.adminServer !== undefined) await close(this.adminServer);
    this.cluster.close();
    if (this.tempDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
