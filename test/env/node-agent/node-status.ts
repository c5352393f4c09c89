/**
 * The Node object and its heartbeats, as a kubelet keeps them: registration (create, or adopt an
 * existing Node of this name), a status with addresses, the kubelet endpoint port, capacity and the
 * Ready condition, re-asserted every minute; and a Lease in kube-node-lease renewed every 10 s, which is
 * what node-lifecycle watches. The API server taints a new Node not-ready; node-lifecycle lifts the taint
 * once it sees Ready.
 */
import { readFileSync, statfsSync } from "node:fs";
import { arch, availableParallelism, release, totalmem } from "node:os";
import { isApiError, type ApiClient } from "./api-client.ts";
import { NODE_IP, type NodeResources } from "./downward-api.ts";
import type { NodeAgentConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import { apiTime } from "./pod-status.ts";

export const KUBELET_VERSION = "v1.36.3";
const LEASE_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;
const STATUS_REPORT_MS = 60_000;

interface NodeObject {
  metadata: { name: string; uid?: string; labels?: Record<string, string>; resourceVersion?: string };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown> & { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return fallback;
  }
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readOr("/etc/os-release", ""));
  return m?.[1] ?? "Linux";
}

export function nodeResources(stateDir: string): NodeResources & { pods: string } {
  let storage = "0";
  try {
    const fs = statfsSync(stateDir);
    storage = `${Math.floor((fs.blocks * fs.bsize) / 1024)}Ki`;
  } catch {
    // leave it 0
  }
  return { cpu: String(availableParallelism()), memory: `${Math.floor(totalmem() / 1024)}Ki`, "ephemeral-storage": storage, pods: "110" };
}

const goArch = () => ({ x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[arch()] ?? arch();

export interface NodeHeartbeat {
  stop(): void;
}

/** Registers the node and keeps it Ready until stopped. */
export async function startNodeHeartbeat(api: ApiClient, config: Pick<NodeAgentConfig, "nodeName" | "kubeletPort" | "stateDir" | "registerWithTaints">, log: Logger): Promise<NodeHeartbeat> {
  const { nodeName, kubeletPort, stateDir } = config;
  const resources = nodeResources(stateDir);
  const labels = {
    "kubernetes.io/hostname": nodeName,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": goArch(),
    "beta.kubernetes.io/os": "linux",
    "beta.kubernetes.io/arch": goArch(),
  };
  const status = (previous?: NodeObject["status"]) => {
    const now = apiTime();
    const old = new Map((previous?.conditions ?? []).map((c) => [c.type, c]));
    const cond = (type: string, s: string, reason: string, message: string) => ({
      type,
      status: s,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: old.get(type)?.status === s ? (old.get(type)?.lastTransitionTime ?? now) : now,
    });
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [
        { type: "InternalIP", address: NODE_IP },
        { type: "Hostname", address: nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      nodeInfo: {
        machineID: readOr("/etc/machine-id", nodeName),
        systemUUID: readOr("/sys/class/dmi/id/product_uuid", readOr("/etc/machine-id", nodeName)),
        bootID: readOr("/proc/sys/kernel/random/boot_id", ""),
        kernelVersion: release(),
        osImage: osImage(),
        containerRuntimeVersion: "node-agent://0.1.0",
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: "",
        operatingSystem: "linux",
        architecture: goArch(),
      },
    };
  };

  let node: NodeObject;
  try {
    node = await api.request<NodeObject>("/api/v1/nodes", { method: "POST", body: { apiVersion: "v1", kind: "Node", metadata: { name: nodeName, labels }, spec: { taints: config.registerWithTaints ?? [] }, status: status() } });
    log.info("Successfully registered node");
  } catch (err) {
    if (!isApiError(err, 409)) throw err;
    node = await api.request<NodeObject>(`/api/v1/nodes/${nodeName}`);
    log.info("Node was previously registered");
  }

  // A merge patch of the status alone: NodeRestriction refuses any write that carries spec.taints
  // different from the stored ones, and node-lifecycle changes those taints behind our back.
  const updateStatus = async () => {
    node = await api.request<NodeObject>(`/api/v1/nodes/${nodeName}/status`, {
      method: "PATCH",
      contentType: "application/merge-patch+json",
      body: { status: status(node.status) },
    });
  };
  await updateStatus();

  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${nodeName}`;
  const microTime = () => new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
  const renewLease = async () => {
    try {
      const lease = await api.request<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }>(leasePath);
      lease.spec = { ...lease.spec, holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime() };
      await api.request(leasePath, { method: "PUT", body: lease });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      await api.request("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
        method: "POST",
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: nodeName, namespace: "kube-node-lease", ownerReferences: [{ apiVersion: "v1", kind: "Node", name: nodeName, uid: node.metadata.uid }] },
          spec: { holderIdentity: nodeName, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime() },
        },
      });
    }
  };
  await renewLease();

  const leaseTimer = setInterval(() => {
    renewLease().catch((err: unknown) => log.warn({ err: String(err) }, "Failed to update lease"));
  }, LEASE_RENEW_MS);
  const statusTimer = setInterval(() => {
    updateStatus().catch((err: unknown) => log.warn({ err: String(err) }, "Error updating node status"));
  }, STATUS_REPORT_MS);
  return {
    stop() {
      clearInterval(leaseTimer);
      clearInterval(statusTimer);
    },
  };
}
