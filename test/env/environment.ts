/**
 * The whole test environment in one process: control plane, the local node agent, MinIO and the Qdrant
 * emulator, each replaceable by what a person points the suite at (KUBECONFIG, S3_ENDPOINT, QDRANT_URL).
 * Its description (EnvironmentInfo) is what `testenv up` prints and what tests read.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { ensureBinaries, isAlive, type Binaries } from "./build.ts";
import { startControlPlane, type ControlPlane } from "./control-plane.ts";
import { startMinio, S3_REGION, type MinioServer, type S3Info } from "./minio.ts";
import { startNodeAgentProcess, type NodeAgentProcess } from "./node-agent-process.ts";
import { RUN_DIR_PREFIX } from "./paths.ts";
import { killGroup } from "./proc.ts";
import { startQdrant, type QdrantHandle } from "./qdrant.ts";

/** What `testenv up` prints and what tests read (the TESTENV_FILE). */
export interface EnvironmentInfo {
  kubeconfig: string;
  s3: S3Info;
  /**
   * `url`: a standalone Qdrant; `peers`: every peer's REST URL of a distributed one (the emulator's 3-peer
   * cluster, or QDRANT_PEERS). The admin URLs exist only for the emulator (faults, peers down/up).
   */
  qdrant: { url: string; peers: string[]; apiKey?: string; adminUrl?: string; clusterAdminUrl?: string } | null;
  /** Present only when the environment runs its own control plane. */
  local?: {
    runDir: string;
    caCert: string;
    caKey: string;
    nodeName: string;
    kubectl: string;
    minioUser?: string;
  };
  logs: Record<string, string>;
  /** Which parts came from the caller's environment instead of being started here. */
  external: { kubernetes: boolean; s3: boolean; qdrant: boolean };
}

export interface RunningEnvironment {
  info: EnvironmentInfo;
  /**
   * Stops every component and removes the run dir. With `keepLogsIn`, the component logs are moved there
   * first (a failed test run keeps them for the reader); returns the kept log paths.
   */
  stop(opts?: { keepLogsIn?: string }): Promise<Record<string, string>>;
}

/**
 * Removes run dirs whose owner died without cleaning up: kills the process groups it recorded, then the
 * dir. A run dir's `owner` file holds the pid of the process that started it.
 */
export async function cleanStaleRuns(): Promise<string[]> {
  const parent = join(RUN_DIR_PREFIX, "..");
  const prefix = RUN_DIR_PREFIX.slice(parent.length + 1);
  const cleaned: string[] = [];
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(parent, name);
    const owner = Number(await readFile(join(dir, "owner"), "utf8").catch(() => "0"));
    if (owner && isAlive(owner)) continue;
    const pids = (await readFile(join(dir, "pids"), "utf8").catch(() => "")).split("\n").map(Number).filter(Boolean);
    for (const pid of pids) killGroup(pid, "SIGKILL");
    await rm(dir, { recursive: true, force: true });
    cleaned.push(dir);
  }
  return cleaned;
}

async function newRunDir(): Promise<string> {
  const dir = `${RUN_DIR_PREFIX}${process.pid}-${Date.now().toString(36)}`;
  await mkdir(join(dir, "logs"), { recursive: true });
  await writeFile(join(dir, "owner"), String(process.pid));
  return dir;
}

function s3FromEnv(): S3Info | undefined {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) return undefined;
  const accessKeyId = process.env.S3_ACCESS_KEY_ID ?? process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.S3_SECRET_ACCESS_KEY ?? process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new Error("S3_ENDPOINT is set: also set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)");
  return { endpoint, region: process.env.S3_REGION ?? process.env.AWS_REGION ?? S3_REGION, accessKeyId, secretAccessKey };
}

/** QDRANT_URL (+ QDRANT_API_KEY, and QDRANT_PEERS=url1,url2,… for a distributed Qdrant). */
function externalQdrantInfo(url: string): NonNullable<EnvironmentInfo["qdrant"]> {
  const peers = process.env.QDRANT_PEERS?.split(",").map((p) => p.trim()).filter(Boolean);
  return { url, peers: peers && peers.length > 0 ? peers : [], ...(process.env.QDRANT_API_KEY ? { apiKey: process.env.QDRANT_API_KEY } : {}) };
}

export interface StartEnvironmentOptions {
  log?: (line: string) => void;
  /** Image → local command map extensions for the node agent. */
  images?: Record<string, { entrypoint?: string[]; cmd?: string[]; env?: Record<string, string> }>;
  /** The Qdrant emulator requires this API key (`npm run dev`: the example Secret's); ignored with QDRANT_URL. */
  qdrantApiKey?: string;
}

export async function startEnvironment(opts: StartEnvironmentOptions = {}): Promise<RunningEnvironment> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + "\n"));
  await cleanStaleRuns();
  const externalKube = process.env.KUBECONFIG;
  const externalS3 = s3FromEnv();
  const externalQdrant = process.env.QDRANT_URL;
  const needBinaries = !externalKube || !externalS3;
  const bins: Binaries | undefined = needBinaries ? await ensureBinaries(log) : undefined;
  const runDir = await newRunDir();
  const stops: Array<() => Promise<void>> = [];
  const logs: Record<string, string> = {};
  const stopAll = async (stopOpts: { keepLogsIn?: string } = {}) => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log(`testenv: stop failed: ${String(err)}`));
    const kept: Record<string, string> = {};
    if (stopOpts.keepLogsIn) {
      await mkdir(stopOpts.keepLogsIn, { recursive: true });
      for (const [name, path] of Object.entries(logs)) {
        const dest = join(stopOpts.keepLogsIn, basename(path));
        if (await rename(path, dest).then(() => true, () => false)) kept[name] = dest;
      }
    }
    await rm(runDir, { recursive: true, force: true });
    return kept;
  };
  try {
    let cp: ControlPlane | undefined;
    let agent: NodeAgentProcess | undefined;
    if (!externalKube && bins) {
      cp = await startControlPlane(bins, runDir);
      stops.push(() => cp!.stop());
      for (const p of cp.processes) logs[p.name] = p.logPath;
      agent = await startNodeAgentProcess(cp, runDir, opts.images ?? {});
      stops.push(() => agent!.stop());
      logs["node-agent"] = agent.logPath;
    }
    let minio: MinioServer | undefined;
    if (!externalS3 && bins) {
      minio = await startMinio(bins.minio, runDir);
      stops.push(() => minio!.stop());
      logs.minio = minio.process.logPath;
    }
    let qdrant: QdrantHandle | undefined;
    if (!externalQdrant) {
      qdrant = await startQdrant(runDir, { apiKey: opts.qdrantApiKey });
      stops.push(() => qdrant!.stop());
      Object.assign(logs, qdrant.logs);
    }
    const info: EnvironmentInfo = {
      kubeconfig: externalKube ?? cp!.kubeconfig,
      s3: externalS3 ?? minio!.info,
      qdrant: externalQdrant ? externalQdrantInfo(externalQdrant) : (qdrant?.info ?? null),
      ...(cp && agent
        ? {
            local: {
              runDir,
              caCert: join(cp.dir, "ca.crt"),
              caKey: join(cp.dir, "ca.key"),
              nodeName: agent.nodeName,
              kubectl: bins!.kubectl,
              ...(minio ? { minioUser: bins!.minioUser } : {}),
            },
          }
        : {}),
      logs,
      external: { kubernetes: Boolean(externalKube), s3: Boolean(externalS3), qdrant: Boolean(externalQdrant) },
    };
    return { info, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
