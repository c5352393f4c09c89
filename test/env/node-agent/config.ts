/** The node agent's configuration file (written by test/env/node-agent-process.ts). */
import type { ImageConfig } from "../images.ts";

export interface NodeAgentConfig {
  nodeName: string;
  /** Kubeconfig with the node's identity: system:node:<nodeName>, group system:nodes. */
  kubeconfig: string;
  /** Pod dirs, logs and the agent's own records live here. */
  stateDir: string;
  /** HTTPS port for the kubelet API (logs), reported in the Node's daemonEndpoints. */
  kubeletPort: number;
  servingCert: string;
  servingKey: string;
  /** CA that signs the apiserver's kubelet-client certificate. */
  clientCaCert: string;
  images: Record<string, ImageConfig>;
  /**
   * Optional: a file to append each container's pid (= process group id) to, like the run dir's `pids`
   * file, so the environment's crash cleanup kills pod processes of an agent that was itself SIGKILLed.
   */
  pidsFile?: string;
  /** Optional: taints the Node is registered with (the kubelet's --register-with-taints). */
  registerWithTaints?: Array<{ key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }>;
}
