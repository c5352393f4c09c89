/**
 * The environment's Qdrant: one standalone emulator and one 3-peer emulated cluster (test/emulator),
 * run in this process. Each keeps its data under the run dir. With an `apiKey` both require it, as a
 * Qdrant with `service.api_key` does (`npm run dev` gives them the example Secret's key).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startEmulator } from "../emulator/index.ts";

export interface QdrantHandle {
  info: { url: string; peers: string[]; apiKey?: string; adminUrl: string; clusterAdminUrl: string };
  logs: Record<string, string>;
  stop(): Promise<void>;
}

export async function startQdrant(runDir: string, opts: { apiKey?: string } = {}): Promise<QdrantHandle> {
  const standaloneDir = join(runDir, "qdrant", "standalone");
  const clusterDir = join(runDir, "qdrant", "cluster");
  await mkdir(standaloneDir, { recursive: true });
  await mkdir(clusterDir, { recursive: true });
  const auth = opts.apiKey === undefined ? {} : { apiKey: opts.apiKey };
  const standalone = await startEmulator({ dataDir: standaloneDir, ...auth });
  let cluster;
  try {
    cluster = await startEmulator({ dataDir: clusterDir, peers: 3, ...auth });
  } catch (err) {
    await standalone.stop();
    throw err;
  }
  return {
    info: { url: standalone.url, adminUrl: standalone.adminUrl, peers: cluster.peers, clusterAdminUrl: cluster.adminUrl, ...auth },
    logs: {},
    stop: async () => {
      await cluster.stop();
      await standalone.stop();
    },
  };
}
