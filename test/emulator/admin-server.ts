/**
 * The admin (fault) API, on its own port so it can never be mistaken for one of Qdrant's paths. Routes:
 *
 *   GET    /peers                          peers with number, id, url, p2p uri and up/down
 *   POST   /peers/{n}/down | /peers/{n}/up take peer n (1-based) down or bring it back
 *   GET    /peers/{n}/files                files under peer n's snapshots and tmp directories
 *   GET    /faults                         pending faults
 *   POST   /faults                         add a fault (FaultSpec JSON) → the fault with its id
 *   DELETE /faults | /faults/{id}          remove all faults / one fault
 *   GET    /consensus                      the shared cluster state (debugging aid)
 *   GET    /recovery-settle                the settle windows in force
 *   POST   /recovery-settle                {ms, collection?}: after a recover on a distributed cluster, the
 *                                          restored replicas stay ManualRecovery for ms (0 turns it off)
 *   GET    /collection-status              the collection status holds in force
 *   POST   /collection-status              {collection, status: yellow|grey|red|green, error?}: GET
 *                                          /collections/{c} reports that status until released (green)
 *   DELETE /collection-status/{c}          releases collection c's hold
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Emulator } from "./emulator.ts";
import type { CollectionStatusSetting } from "./collection-health.ts";
import type { FaultSpec } from "./faults.ts";
import type { SettleSetting } from "./recovery-settle.ts";
import { readBody, sendJson } from "./http-util.ts";

export interface FileInfo {
  /** Path relative to the listed directory, with `/` separators. */
  path: string;
  size: number;
}

/** Every regular file under `root`, recursively (empty when the directory does not exist). */
export function listFiles(root: string): FileInfo[] {
  const out: FileInfo[] = [];
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push({ path: path.relative(root, full).split(path.sep).join("/"), size: fs.statSync(full).size });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

async function handle(emulator: Emulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const parts = url.pathname.split("/").filter((p) => p !== "");
  const method = req.method ?? "GET";
  const peerRoute = parts[0] === "peers" && parts.length === 3 ? Number(parts[1]) : undefined;

  if (method === "GET" && url.pathname === "/peers") {
    sendJson(res, 200, emulator.cluster.peers.map((p) => ({ number: p.index + 1, id: p.id, url: p.url, p2pUri: p.p2pUri, up: p.up })));
  } else if (method === "POST" && peerRoute !== undefined && (parts[2] === "down" || parts[2] === "up")) {
    if (parts[2] === "down") await emulator.peerDown(peerRoute);
    else await emulator.peerUp(peerRoute);
    sendJson(res, 200, { ok: true });
  } else if (method === "GET" && peerRoute !== undefined && parts[2] === "files") {
    const peer = emulator.peer(peerRoute);
    sendJson(res, 200, { snapshots: listFiles(peer.snapshotsDir), tmp: listFiles(peer.tmpDir) });
  } else if (method === "GET" && url.pathname === "/faults") {
    sendJson(res, 200, emulator.faults.list());
  } else if (method === "POST" && url.pathname === "/faults") {
    const spec = JSON.parse((await readBody(req)).toString("utf8")) as FaultSpec;
    sendJson(res, 200, emulator.faults.add(spec));
  } else if (method === "DELETE" && url.pathname === "/faults") {
    emulator.faults.clear();
    sendJson(res, 200, { ok: true });
  } else if (method === "DELETE" && parts[0] === "faults" && parts.length === 2) {
    sendJson(res, emulator.faults.remove(Number(parts[1])) ? 200 : 404, { ok: true });
  } else if (method === "GET" && url.pathname === "/recovery-settle") {
    sendJson(res, 200, emulator.cluster.recoverySettle.settings());
  } else if (method === "POST" && url.pathname === "/recovery-settle") {
    const setting = JSON.parse((await readBody(req)).toString("utf8")) as SettleSetting;
    emulator.cluster.recoverySettle.set(setting);
    sendJson(res, 200, { ok: true });
  } else if (method === "GET" && url.pathname === "/collection-status") {
    sendJson(res, 200, emulator.cluster.collectionHealth.settings());
  } else if (method === "POST" && url.pathname === "/collection-status") {
    const setting = JSON.parse((await readBody(req)).toString("utf8")) as CollectionStatusSetting;
    emulator.cluster.collectionHealth.set(setting);
    sendJson(res, 200, { ok: true });
  } else if (method === "DELETE" && parts[0] === "collection-status" && parts.length === 2) {
    sendJson(res, 200, { released: emulator.cluster.collectionHealth.release(decodeURIComponent(parts[1] ?? "")) });
  } else if (method === "GET" && url.pathname === "/consensus") {
    sendJson(res, 200, emulator.cluster.state);
  } else {
    sendJson(res, 404, { error: `no admin route ${method} ${url.pathname}` });
  }
}

export function createAdminServer(emulator: Emulator): Server {
  return createServer((req, res) => {
    handle(emulator, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 400, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  });
}
