/**
 * Whether a container that exited is started again: the container's own restartPolicy and
 * restartPolicyRules (ContainerRestartRules, beta and on in 1.36) before the pod's restartPolicy, as
 * k8s.io/kubernetes pkg/api/v1/pod.ContainerShouldRestart decides it.
 */
import type { Container, PodSpec } from "./types.ts";

export function containerShouldRestart(container: Container, spec: PodSpec, exitCode: number): boolean {
  if (container.restartPolicy) {
    for (const rule of container.restartPolicyRules ?? []) {
      const values = rule.exitCodes?.values ?? [];
      const matches = rule.exitCodes?.operator === "NotIn" ? !values.includes(exitCode) : values.includes(exitCode);
      if (!rule.exitCodes || !matches) continue;
      if (rule.action === "Restart" || rule.action === "RestartAllContainers") return true;
      break;
    }
    switch (container.restartPolicy) {
      case "Always":
        return true;
      case "OnFailure":
        return exitCode !== 0;
      case "Never":
        return false;
    }
  }
  switch (spec.restartPolicy ?? "Always") {
    case "OnFailure":
      return exitCode !== 0;
    case "Never":
      return false;
    default:
      return true;
  }
}

/** A native sidecar: an init container with restartPolicy Always, which keeps running beside the containers. */
export function isRestartableInitContainer(container: Container): boolean {
  return container.restartPolicy === "Always";
}
