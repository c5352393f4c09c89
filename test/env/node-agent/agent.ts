/**
 * The node agent: checks that this machine can run containers as processes (mount namespaces), kills
 * what a previous incarnation left running, registers the Node and keeps it Ready, serves the kubelet
 * port, and runs the pods bound to the node until stopped.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createApiClient } from "./api-client.ts";
import type { NodeAgentConfig } from "./config.ts";
import { kubernetesServiceEnv } from "./env.ts";
import { EventRecorder } from "./events.ts";
import { startKubeletServer } from "./kubelet-server.ts";
import { TOOLS } from "./launch-script.ts";
import type { Logger } from "./logger.ts";
import { nodeResources, startNodeHeartbeat } from "./node-status.ts";
import { PodManager, watchPods } from "./pod-source.ts";
import { ProcessRecords } from "./process-records.ts";

export interface RunningAgent {
  /** Kills every pod process (SIGTERM, then SIGKILL after `graceSeconds`) and stops. */
  stop(graceSeconds?: number): Promise<void>;
}

/** Fails early and clearly where containers cannot run: the agent needs root for mount namespaces. */
function checkMountNamespaces(): void {
  try {
    execFileSync(TOOLS.unshare, ["--mount", "--uts", "--propagation", "private", "--", "/bin/true"], { stdio: "pipe", env: {} });
  } catch (err) {
    throw new Error(`the node agent runs each container in its own mount namespace and cannot create one here (${TOOLS.unshare} --mount failed: ${(err as Error).message.trim()}); it needs root (CAP_SYS_ADMIN)`, { cause: err });
  }
}

export async function startAgent(config: NodeAgentConfig, log: Logger): Promise<RunningAgent> {
  checkMountNamespaces();
  mkdirSync(join(config.stateDir, "pods"), { recursive: true });
  const records = new ProcessRecords(config.stateDir, config.pidsFile);
  const leftovers = await records.killLeftovers(log);
  if (leftovers.length) log.info({ count: leftovers.length }, "Killed containers of a previous node agent");

  const api = await createApiClient(config.kubeconfig);
  const manager = new PodManager({
    api,
    log,
    events: new EventRecorder(api, log, config.nodeName),
    runner: { stateDir: config.stateDir, images: config.images, node: nodeResources(config.stateDir), serviceEnv: kubernetesServiceEnv(api.server), records },
  });
  const server = await startKubeletServer({ port: config.kubeletPort, cert: config.servingCert, key: config.servingKey, clientCa: config.clientCaCert }, manager, log);
  const heartbeat = await startNodeHeartbeat(api, config, log);
  const abort = new AbortController();
  const watching = watchPods(api, config.nodeName, manager, log, abort.signal);

  return {
    async stop(graceSeconds = 5) {
      abort.abort();
      heartbeat.stop();
      await watching;
      await manager.shutdown(graceSeconds);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
