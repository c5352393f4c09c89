/** The kubelet's phase and condition rules, as ported to the node agent. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { hasPodInitialized, mergeStatus, podConditions, podPhase, terminalStatuses } from "../env/node-agent/pod-status.ts";
import type { ContainerState, ContainerStatus, Pod, PodSpec } from "../env/node-agent/types.ts";

function pod(spec: Partial<PodSpec>): Pod {
  return { metadata: { name: "p", namespace: "ns", uid: "u", generation: 1 }, spec: { containers: [{ name: "a" }], ...spec } };
}
function cs(name: string, state: ContainerState, extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return { name, state, lastState: {}, ready: Boolean(state.running), restartCount: 0, image: "i", imageID: "", ...extra };
}
const running = { running: { startedAt: "t" } };
const exited = (exitCode: number) => ({ terminated: { exitCode } });
const waiting = (reason = "ContainerCreating") => ({ waiting: { reason } });

test("phase follows the restart policy for containers that exited", () => {
  const never = pod({ restartPolicy: "Never" });
  assert.equal(podPhase(never, [], [cs("a", exited(0))], false, true), "Succeeded");
  assert.equal(podPhase(never, [], [cs("a", exited(3))], false, true), "Failed");
  const onFailure = pod({ restartPolicy: "OnFailure" });
  assert.equal(podPhase(onFailure, [], [cs("a", exited(3))], false, true), "Running", "about to restart");
  assert.equal(podPhase(onFailure, [], [cs("a", waiting("CrashLoopBackOff"), { lastState: exited(3) })], false, true), "Running");
  assert.equal(podPhase(onFailure, [], [cs("a", exited(0))], false, true), "Succeeded");
  const always = pod({ restartPolicy: "Always" });
  assert.equal(podPhase(always, [], [cs("a", exited(0))], false, true), "Running");
  assert.equal(podPhase(always, [], [cs("a", exited(0))], true, true), "Succeeded", "a terminal pod is not restarted");
  assert.equal(podPhase(always, [], [cs("a", exited(137))], true, true), "Failed");
  assert.equal(podPhase(never, [], [cs("a", waiting())], false, true), "Pending");
  assert.equal(podPhase(never, [], [cs("a", running)], false, true), "Running");
});

test("a container's restartPolicyRules decide before the pod's policy", () => {
  const p = pod({ restartPolicy: "Never", containers: [{ name: "a", restartPolicy: "Never", restartPolicyRules: [{ action: "Restart", exitCodes: { operator: "In", values: [42] } }] }] });
  assert.equal(podPhase(p, [], [cs("a", exited(42))], false, true), "Running");
  assert.equal(podPhase(p, [], [cs("a", exited(1))], false, true), "Failed");
});

test("init containers: pending until done, a failure with Never fails the pod", () => {
  const p = pod({ restartPolicy: "Never", initContainers: [{ name: "i1" }, { name: "i2" }] });
  const init = [cs("i1", exited(0), { ready: true }), cs("i2", running, { ready: false })];
  const regular = [cs("a", waiting("PodInitializing"))];
  assert.equal(podPhase(p, init, regular, false, false), "Pending");
  assert.equal(hasPodInitialized(p, init, regular), false);
  assert.equal(podPhase(p, [cs("i1", exited(1))], regular, false, false), "Failed");
  assert.equal(podPhase(pod({ ...p.spec, restartPolicy: "OnFailure" }), [cs("i1", exited(1))], regular, false, false), "Pending");
  const conds = podConditions(p, init, regular, "Pending", true);
  assert.deepEqual(conds.find((c) => c.type === "Initialized"), { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [i2]" });
  assert.equal(hasPodInitialized(p, [cs("i1", exited(0)), cs("i2", exited(0))], regular), true);
});

test("conditions as the kubelet words them", () => {
  const p = pod({ restartPolicy: "Never" });
  const byType = (phase: Parameters<typeof podConditions>[3], statuses: ContainerStatus[], sandbox = true) => Object.fromEntries(podConditions(p, [], statuses, phase, sandbox).map((c) => [c.type, c]));
  let c = byType("Running", [cs("a", running)]);
  assert.equal(c.Ready!.status, "True");
  assert.equal(c.ContainersReady!.status, "True");
  assert.equal(c.PodReadyToStartContainers!.status, "True");
  c = byType("Pending", [cs("a", waiting())]);
  assert.deepEqual(c.Ready, { type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [a]" });
  c = byType("Succeeded", [cs("a", exited(0))], false);
  assert.equal(c.Ready!.reason, "PodCompleted");
  assert.equal(c.Initialized!.reason, "PodCompleted");
  assert.equal(c.PodReadyToStartContainers!.status, "False");
  c = byType("Failed", [cs("a", exited(1))], false);
  assert.equal(c.ContainersReady!.reason, "PodFailed");
});

test("a terminal pod's never-finished containers are reported lost, and its phase is terminal", () => {
  const p = pod({ restartPolicy: "Always" });
  const r = terminalStatuses(p, [], [cs("a", waiting("ErrImagePull"))], "Pending");
  assert.equal(r.phase, "Failed");
  assert.deepEqual(r.regular[0]!.state.terminated, { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" });
});

test("merging keeps others' conditions and unchanged transition times", () => {
  const p = pod({});
  p.status = {
    qosClass: "BestEffort",
    conditions: [
      { type: "PodScheduled", status: "True", lastTransitionTime: "t0" },
      { type: "Ready", status: "False", lastTransitionTime: "t0" },
      { type: "Initialized", status: "True", lastTransitionTime: "t0" },
    ],
  };
  const merged = mergeStatus(p, { phase: "Running", conditions: [{ type: "Ready", status: "True" }, { type: "Initialized", status: "True" }], initContainerStatuses: [], containerStatuses: [] }, "t1");
  assert.equal(merged.qosClass, "BestEffort");
  const byType = Object.fromEntries(merged.conditions!.map((c) => [c.type, c]));
  assert.equal(byType.PodScheduled!.lastTransitionTime, "t0");
  assert.equal(byType.Ready!.lastTransitionTime, "t1", "Ready changed");
  assert.equal(byType.Initialized!.lastTransitionTime, "t0", "Initialized did not");
  assert.equal(byType.Ready!.observedGeneration, 1);
  assert.equal(merged.podIP, undefined);
  assert.equal(merged.hostIP, "127.0.0.1");
  assert.equal("initContainerStatuses" in merged, false, "no init containers, no initContainerStatuses");
});
