/**
 * The part of a securityContext a process can honour without a runtime: the user and groups it runs as
 * (runAsUser, runAsGroup, supplementalGroups, fsGroup; a container's settings override the pod's) and the
 * runAsNonRoot check the kubelet makes. Images here have no USER, so without runAsUser a container runs
 * as root, as it would from an image that does not set one. Capabilities, seccomp, privilege escalation
 * and read-only root filesystems are not applied (see README).
 */
import type { Container, Pod } from "./types.ts";

export interface ProcessIdentity {
  uid: number;
  gid: number;
  groups: number[];
}

/** The identity to run as (undefined: root, unchanged), or the kubelet's refusal message. */
export function processIdentity(pod: Pod, container: Container): { identity?: ProcessIdentity } | { error: string } {
  const podSc = pod.spec.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const where = `(pod: "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})", container: ${container.name})`;
  if (nonRoot && uid === 0) return { error: `container's runAsUser breaks non-root policy ${where}` };
  if (nonRoot && uid === undefined) return { error: `container has runAsNonRoot and image will run as root ${where}` };
  const groups = [...(podSc.supplementalGroups ?? []), ...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : [])];
  if (uid === undefined && gid === undefined && groups.length === 0) return {};
  return { identity: { uid: uid ?? 0, gid: gid ?? 0, groups: [...new Set(groups)] } };
}
