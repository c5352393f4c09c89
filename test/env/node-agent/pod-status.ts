/**
 * A pod's status as a kubelet computes it, ported from k8s.io/kubernetes v1.36 (pkg/kubelet getPhase,
 * pkg/kubelet/status generate.go and the status manager's terminal-pod rules): the phase from the
 * container states, the PodReadyToStartContainers/Initialized/ContainersReady/Ready conditions, and the
 * merge into the API object that leaves conditions owned by others (PodScheduled, DisruptionTarget,
 * readiness gates) alone. Pure functions, so they are unit-tested against the kubelet's rules.
 */
import { containerShouldRestart, isRestartableInitContainer } from "./restart-policy.ts";
import type { ContainerStatus, Pod, PodCondition, PodStatus } from "./types.ts";
import { NODE_IP } from "./downward-api.ts";

export type Phase = NonNullable<PodStatus["phase"]>;

const OWNED_CONDITIONS = ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"];

function find(statuses: ContainerStatus[], name: string): ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/** kubelet getPhase, with ContainerRestartRules (beta, on by default in 1.36). */
export function podPhase(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[], podIsTerminal: boolean, podHasInitialized: boolean): Phase {
  let pendingRegularInit = 0;
  let pendingRestartableInit = 0;
  let failedInitNotRestartable = 0;
  for (const c of pod.spec.initContainers ?? []) {
    if (isRestartableInitContainer(c)) continue;
    const s = find(init, c.name);
    if (!s || s.state.running) {
      pendingRegularInit++;
      continue;
    }
    const term = s.state.terminated ?? (s.state.waiting ? s.lastState.terminated : undefined);
    if (term) {
      if (term.exitCode !== 0 && !containerShouldRestart(c, pod.spec, term.exitCode)) failedInitNotRestartable++;
    } else {
      pendingRegularInit++;
    }
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let stoppedNotRestartable = 0;
  let succeeded = 0;
  for (const c of pod.spec.initContainers ?? []) {
    if (!isRestartableInitContainer(c)) continue;
    const s = find(init, c.name);
    if (!s) unknown++;
    else if (s.state.running) {
      if (!s.started) pendingRestartableInit++;
      running++;
    } else if (s.state.waiting && !s.lastState.terminated) {
      pendingRestartableInit++;
      waiting++;
    } else if (!s.state.waiting && !s.state.terminated) {
      pendingRestartableInit++;
      unknown++;
    }
  }
  for (const c of pod.spec.containers) {
    const s = find(regular, c.name);
    if (!s) {
      unknown++;
    } else if (s.state.running) {
      running++;
    } else if (s.state.terminated) {
      stopped++;
      if (!containerShouldRestart(c, pod.spec, s.state.terminated.exitCode)) stoppedNotRestartable++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting && s.lastState.terminated) {
      stopped++;
      if (!containerShouldRestart(c, pod.spec, s.lastState.terminated.exitCode)) stoppedNotRestartable++;
    } else if (s.state.waiting) {
      waiting++;
    } else {
      unknown++;
    }
  }
  if (failedInitNotRestartable > 0) return "Failed";
  if (pendingRegularInit > 0 || (pendingRestartableInit > 0 && !podHasInitialized) || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (stopped !== stoppedNotRestartable) return "Running";
    return stopped === succeeded ? "Succeeded" : "Failed";
  }
  return "Pending";
}

/** Status manager hasPodInitialized: no init containers, a regular container left waiting, or the last init container done. */
export function hasPodInitialized(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[]): boolean {
  const specs = pod.spec.initContainers ?? [];
  if (specs.length === 0) return true;
  if (regular.some((s) => s.lastState.terminated || !s.state.waiting)) return true;
  const lastSpec = specs[specs.length - 1]!;
  const last = find(init, lastSpec.name);
  if (!last) return false;
  if (isRestartableInitContainer(lastSpec)) return Boolean(last.state.running && last.started);
  return last.lastState.terminated?.exitCode === 0 || last.state.terminated?.exitCode === 0;
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? "True" : "False", ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function list(names: string[]): string {
  return `[${names.join(" ")}]`;
}

/** The four conditions the kubelet owns. */
export function podConditions(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[], phase: Phase, sandboxReady: boolean): PodCondition[] {
  const out: PodCondition[] = [condition("PodReadyToStartContainers", sandboxReady)];

  // Initialized
  const unknownInit: string[] = [];
  const incomplete: string[] = [];
  for (const c of pod.spec.initContainers ?? []) {
    const s = find(init, c.name);
    if (!s) unknownInit.push(c.name);
    else if (isRestartableInitContainer(c) ? !s.started : !s.ready) incomplete.push(c.name);
  }
  const anyRegularStarted = regular.some((s) => s.state.running || s.state.terminated || s.lastState.terminated || s.started);
  if (phase === "Succeeded" && unknownInit.length === 0) out.push(condition("Initialized", true, "PodCompleted"));
  else if (anyRegularStarted) out.push(condition("Initialized", true));
  else {
    const msgs = [...(unknownInit.length ? [`containers with unknown status: ${list(unknownInit)}`] : []), ...(incomplete.length ? [`containers with incomplete status: ${list(incomplete)}`] : [])];
    out.push(msgs.length ? condition("Initialized", false, "ContainersNotInitialized", msgs.join(", ")) : condition("Initialized", true));
  }

  // ContainersReady and Ready
  const unknown: string[] = [];
  const unready: string[] = [];
  const consider = [...(pod.spec.initContainers ?? []).filter(isRestartableInitContainer).map((c) => [c, find(init, c.name)] as const), ...pod.spec.containers.map((c) => [c, find(regular, c.name)] as const)];
  for (const [c, s] of consider) {
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  let ready: PodCondition;
  if ((phase === "Succeeded" && unknown.length === 0) || phase === "Failed") {
    ready = condition("ContainersReady", false, phase === "Failed" ? "PodFailed" : "PodCompleted");
  } else {
    const msgs = [...(unknown.length ? [`containers with unknown status: ${list(unknown)}`] : []), ...(unready.length ? [`containers with unready status: ${list(unready)}`] : [])];
    ready = msgs.length ? condition("ContainersReady", false, "ContainersNotReady", msgs.join(", ")) : condition("ContainersReady", true);
  }
  out.push(ready);
  if (ready.status !== "True") {
    out.push({ ...ready, type: "Ready" });
  } else {
    const gates: string[] = [];
    for (const g of pod.spec.readinessGates ?? []) {
      const c = pod.status?.conditions?.find((x) => x.type === g.conditionType);
      if (!c) gates.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
      else if (c.status !== "True") gates.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
    }
    out.push(gates.length ? condition("Ready", false, "ReadinessGatesNotReady", gates.join(", ")) : condition("Ready", true));
  }
  return out;
}

/**
 * The status manager's rules for a terminal pod: once initialized, a container without a terminated
 * state is reported lost (ContainerStatusUnknown, 137); so are init containers before the last one that
 * left evidence of starting; a phase that is still Pending/Running becomes Failed.
 */
export function terminalStatuses(pod: Pod, init: ContainerStatus[], regular: ContainerStatus[], phase: Phase): { init: ContainerStatus[]; regular: ContainerStatus[]; phase: Phase } {
  const lost = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" } };
  const initialized = hasPodInitialized(pod, init, regular);
  const newRegular = regular.map((s) => (s.state.terminated || !initialized ? s : { ...s, state: lost, ready: false, started: false }));
  let lastEvidence = 0;
  init.forEach((s, i) => {
    if (!s.state.waiting || s.lastState.terminated) lastEvidence = i;
  });
  const newInit = init.map((s, i) => (i > lastEvidence || s.state.terminated ? s : { ...s, state: lost, ready: false, started: false }));
  return { init: newInit, regular: newRegular, phase: phase === "Pending" || phase === "Running" ? "Failed" : phase };
}

/** The fields of status the agent owns, given everything it knows about the pod. */
export interface OwnedStatus {
  phase: Phase;
  conditions: PodCondition[];
  startTime?: string;
  podIP?: string;
  initContainerStatuses: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  reason?: string;
  message?: string;
}

/** The time in the API's format (RFC3339, whole seconds). */
export function apiTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/**
 * `current` with the agent's fields replaced. A condition keeps its lastTransitionTime while its status
 * is unchanged; every owned condition and the status carry the pod's generation (observedGeneration).
 */
export function mergeStatus(pod: Pod, owned: OwnedStatus, now: string): PodStatus {
  const current = pod.status ?? {};
  const gen = pod.metadata.generation;
  const previous = new Map((current.conditions ?? []).map((c) => [c.type, c]));
  const conditions: PodCondition[] = (current.conditions ?? []).filter((c) => !OWNED_CONDITIONS.includes(c.type));
  for (const c of owned.conditions) {
    const old = previous.get(c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now;
    conditions.push({ ...c, lastProbeTime: null, lastTransitionTime, ...(gen !== undefined ? { observedGeneration: gen } : {}) });
  }
  const status: PodStatus = {
    ...current,
    phase: owned.phase,
    conditions,
    hostIP: NODE_IP,
    hostIPs: [{ ip: NODE_IP }],
    initContainerStatuses: owned.initContainerStatuses,
    containerStatuses: owned.containerStatuses,
    ...(gen !== undefined ? { observedGeneration: gen } : {}),
  };
  if (owned.startTime) status.startTime = owned.startTime;
  if (owned.podIP) {
    status.podIP = owned.podIP;
    status.podIPs = [{ ip: owned.podIP }];
  }
  if (owned.reason) status.reason = owned.reason;
  if (owned.message) status.message = owned.message;
  if (!(pod.spec.initContainers ?? []).length) delete status.initContainerStatuses;
  return status;
}
