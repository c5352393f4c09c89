/**
 * What the node agent's cluster tests share: under `npm test` they use the shared environment
 * (TESTENV_FILE); run on their own (`node --test test/node-agent/x.test.ts`) they start a control plane
 * and the node agent for the file in a `before` hook. Plus small API helpers for pods.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { promisify } from "node:util";
import { CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { ensureBinaries } from "../env/build.ts";
import { startControlPlane } from "../env/control-plane.ts";
import type { EnvironmentInfo } from "../env/environment.ts";
import { startNodeAgentProcess } from "../env/node-agent-process.ts";
import { eventually, kubeConfig, testEnv } from "../helpers/testenv.ts";

const run = promisify(execFile);

/** Registers hooks that start a control plane and the agent when no shared environment is given. */
export function useClusterWithNodeAgent(): void {
  if (process.env.TESTENV_FILE) return;
  let stop: (() => Promise<void>) | undefined;
  before(
    async () => {
      const runDir = await mkdtemp(join(tmpdir(), "qdrant-operator-testenv-node-agent-"));
      await mkdir(join(runDir, "logs"));
      const bins = await ensureBinaries();
      const cp = await startControlPlane(bins, runDir);
      const agent = await startNodeAgentProcess(cp, runDir, {}).catch(async (err: unknown) => {
        await cp.stop();
        throw err;
      });
      stop = async () => {
        await agent.stop();
        await cp.stop();
        await rm(runDir, { recursive: true, force: true });
      };
      const info: EnvironmentInfo = {
        kubeconfig: cp.kubeconfig,
        s3: { endpoint: "", region: "", accessKeyId: "", secretAccessKey: "" },
        qdrant: null,
        local: { runDir, caCert: join(cp.dir, "ca.crt"), caKey: join(cp.dir, "ca.key"), nodeName: agent.nodeName, kubectl: bins.kubectl },
        logs: Object.fromEntries([...cp.processes.map((p): [string, string] => [p.name, p.logPath]), ["node-agent", agent.logPath]]),
        external: { kubernetes: false, s3: false, qdrant: false },
      };
      const file = join(runDir, "testenv.json");
      await writeFile(file, JSON.stringify(info));
      process.env.TESTENV_FILE = file;
    },
    { timeout: 900_000 },
  );
  after(async () => {
    await stop?.();
  });
}

export function core(): CoreV1Api {
  return kubeConfig().makeApiClient(CoreV1Api);
}

export const NODE_IMAGE = "docker.io/library/node:26";

/** The default ServiceAccount appears a moment after its namespace; pods are refused until it does. */
export async function waitForDefaultServiceAccount(namespace: string): Promise<void> {
  await eventually(`ServiceAccount ${namespace}/default`, async () => ((await core().readNamespacedServiceAccount({ namespace, name: "default" })) ? true : undefined));
}

/** Polls the pod until `done` returns a value (the pod's state is the agent's, in another process). */
export async function waitForPod<T>(namespace: string, name: string, what: string, done: (pod: V1Pod) => T | undefined, timeoutMs = 60_000): Promise<T> {
  return eventually(`pod ${namespace}/${name}: ${what}`, async () => done(await core().readNamespacedPod({ namespace, name })), timeoutMs);
}

export const isPhase = (...phases: string[]) => (pod: V1Pod) => (phases.includes(pod.status?.phase ?? "") ? pod : undefined);

/** Runs the environment's kubectl (same version as the control plane) against it. */
export async function kubectl(...args: string[]): Promise<string> {
  const env = testEnv();
  const { stdout } = await run(env.local?.kubectl ?? "kubectl", ["--kubeconfig", env.kubeconfig, ...args]);
  return stdout;
}

/** The pid behind a container status's `local://<pid>` container ID. */
export function pidOf(containerID: string | undefined): number {
  const m = /^local:\/\/(\d+)$/.exec(containerID ?? "");
  if (!m) throw new Error(`not a node-agent container ID: ${containerID}`);
  return Number(m[1]);
}
