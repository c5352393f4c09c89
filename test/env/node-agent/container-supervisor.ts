/**
 * Keeps one container going for its pod worker: starts an instance, waits for it to exit, records the
 * exit, and restarts it as the restart policy says, with crash-loop back-off. Resolves with the exit code
 * of the instance that will not be restarted, or undefined when the pod stopped first.
 */
import type { ContainerStateTerminated } from "./types.ts";
import type { ContainerRecord } from "./container-state.ts";
import { launchContainer } from "./container-runner.ts";
import { PodObjects } from "./objects.ts";
import { containerShouldRestart, isRestartableInitContainer } from "./restart-policy.ts";
import type { PodWorker } from "./pod-worker.ts";
import type { PreparedVolume } from "./volumes.ts";

/** How long a container waits before its config (env, image) is tried again. */
const CONFIG_RETRY_MS = 2000;
const IMAGE_RETRY_MS = 30_000;

function shouldRestart(w: PodWorker, rec: ContainerRecord, exitCode: number): boolean {
  if (isRestartableInitContainer(rec.spec) && rec.init) return !w.stopped(rec);
  // A regular init container that succeeded is done; one that failed follows the policy.
  if (rec.init && exitCode === 0) return false;
  return containerShouldRestart(rec.spec, w.pod.spec, exitCode);
}

export async function superviseContainer(w: PodWorker, rec: ContainerRecord, volumes: Map<string, PreparedVolume>): Promise<number | undefined> {
  const name = rec.spec.name;
  const log = w.log.child({ container: name });
  // A container seeded from the API may have exited (or been lost) under the previous agent.
  let exit: ContainerStateTerminated | undefined = rec.state.terminated;
  if (!exit && rec.state.waiting && rec.lastState.terminated) rec.restartCount++; // was in back-off: restart now

  for (;;) {
    if (exit) {
      if (w.stopped(rec) || !shouldRestart(w, rec, exit.exitCode)) return exit.exitCode;
      const delay = rec.backOff(w.desc);
      if (delay > 0) {
        log.info({ delayMs: delay, restartCount: rec.restartCount }, "Back-off restarting failed container");
        w.deps.events.record(w.pod, "Warning", "BackOff", `Back-off restarting failed container ${name} in pod ${w.desc}`, rec.fieldPath);
        void w.publish();
        await w.sleep(delay, rec);
        if (w.stopped(rec)) return exit.exitCode;
      }
      rec.beginRestart();
      exit = undefined;
    }
    if (w.stopped(rec)) return undefined;

    let result;
    try {
      result = await launchContainer({ env: w.deps.runner, pod: w.pod, container: rec.spec, volumes, restartCount: rec.restartCount, objects: new PodObjects(w.deps.api, w.pod.metadata.namespace ?? "") });
    } catch (err) {
      result = { kind: "waiting" as const, reason: "CreateContainerConfigError" as const, message: (err as Error).message };
    }

    if (result.kind === "waiting") {
      if (rec.state.waiting?.reason !== result.reason || rec.state.waiting.message !== result.message) {
        log.warn({ reason: result.reason, message: result.message }, "Container cannot start");
        w.deps.events.record(w.pod, "Warning", "Failed", `Error: ${result.message}`, rec.fieldPath);
      }
      rec.waiting(result.reason, result.message);
      void w.publish();
      await w.sleep(result.reason === "ErrImagePull" ? IMAGE_RETRY_MS : CONFIG_RETRY_MS, rec);
      continue;
    }

    rec.image = result.image.ref;
    rec.imageID = result.image.imageID;
    if (result.kind === "startError") {
      log.warn({ message: result.message }, "Container failed to start");
      w.deps.events.record(w.pod, "Warning", "Failed", `Error: ${result.message}`, rec.fieldPath);
      exit = await rec.exited({ exitCode: 128, finishedAt: new Date(), startError: result.message }, undefined, undefined);
      void w.publish();
      continue;
    }

    const { proc } = result;
    rec.launched(proc, result.log, result.image.ref, result.image.imageID);
    w.deps.events.record(w.pod, "Normal", "Pulled", `Container image "${rec.spec.image}" already present on machine`, rec.fieldPath);
    w.deps.events.record(w.pod, "Normal", "Created", `Created container: ${name}`, rec.fieldPath);
    if (w.stopped(rec)) w.kill(rec);
    const startedAt = await proc.started;
    if (startedAt) {
      rec.running(proc, startedAt);
      log.info({ pid: proc.pid, restartCount: rec.restartCount }, "Started container");
      w.deps.events.record(w.pod, "Normal", "Started", `Started container ${name}`, rec.fieldPath);
      void w.publish();
    }
    const ended = await proc.exited;
    w.containerExited(rec);
    exit = await rec.exited(ended, startedAt, result.terminationFile);
    log.info({ pid: proc.pid, exitCode: exit.exitCode, reason: exit.reason, ...(exit.signal ? { signal: exit.signal } : {}) }, "Container exited");
    if (ended.startError) w.deps.events.record(w.pod, "Warning", "Failed", `Error: ${ended.startError}`, rec.fieldPath);
    void w.publish();
  }
}
