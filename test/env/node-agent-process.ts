/**
 * Starts the node agent (test/env/node-agent) as its own process with a node identity
 * (system:node:<name> in system:nodes, so the Node authorizer and NodeRestriction apply to it as to a
 * kubelet) and a serving certificate for its kubelet port, then waits until its Node is Ready and the
 * not-ready taint is gone, i.e. until the scheduler will place Pods on it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import type { ControlPlane } from "./control-plane.ts";
import { defaultImages, type ImageConfig } from "./images.ts";
import type { NodeAgentConfig } from "./node-agent/config.ts";
import { REPO_ROOT } from "./paths.ts";
import { freePort } from "./ports.ts";
import { startProcess, waitUntilReady } from "./proc.ts";

export interface NodeAgentProcess {
  nodeName: string;
  logPath: string;
  stop(): Promise<void>;
}

export const NODE_NAME = "testenv-node";

export async function startNodeAgentProcess(cp: ControlPlane, runDir: string, images: Record<string, ImageConfig>): Promise<NodeAgentProcess> {
  const dir = join(runDir, "node-agent");
  await mkdir(dir, { recursive: true });
  const serving = await cp.ca.sign({ commonName: NODE_NAME, usage: "server", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost", NODE_NAME] });
  const config: NodeAgentConfig = {
    nodeName: NODE_NAME,
    kubeconfig: await cp.kubeconfigFor(`system:node:${NODE_NAME}`, ["system:nodes"]),
    stateDir: dir,
    kubeletPort: await freePort(),
    servingCert: serving.cert,
    servingKey: serving.key,
    clientCaCert: cp.ca.cert,
    images: { ...defaultImages(), ...images },
    // Container pids go to the run dir's list too, so cleanStaleRuns kills them even if the agent was SIGKILLed.
    pidsFile: join(runDir, "pids"),
  };
  const configPath = join(dir, "config.json");
  await writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  const proc = startProcess({
    name: "node-agent",
    command: process.execPath,
    args: [join(REPO_ROOT, "test", "env", "node-agent", "main.ts"), configPath],
    runDir,
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  await waitUntilReady(proc, "Node Ready and schedulable", async () => {
    const node = await core.readNode({ name: NODE_NAME });
    const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const tainted = node.spec?.taints?.some((t) => t.key.startsWith("node.kubernetes.io/"));
    return Boolean(ready && !tainted);
  }, 90_000);
  return { nodeName: NODE_NAME, logPath: proc.logPath, stop: () => proc.stop(15_000) };
}
