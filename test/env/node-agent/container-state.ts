/**
 * What the agent knows about one container of a pod: the fields of its ContainerStatus, the running
 * instance if any, and its crash-loop back-off. It is seeded from the pod's status in the API, so a new
 * agent incarnation continues where the previous one stopped (restartCount, completed init containers)
 * and reports as lost a container that status says was running: nothing of it survives here.
 */
import { logTail } from "./log-reader.ts";
import { readTerminationMessage } from "./container-runner.ts";
import type { ContainerLogWriter } from "./container-log.ts";
import type { ContainerProcess, ProcessExit } from "./container-process.ts";
import type { Container, ContainerState, ContainerStateTerminated, ContainerStatus } from "./types.ts";
import { apiTime } from "./pod-status.ts";

/** Crash-loop back-off: the first restart is immediate, then 1 s doubling to 60 s (see README). */
export const BACKOFF_INITIAL_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;

export class ContainerRecord {
  readonly spec: Container;
  readonly init: boolean;
  state: ContainerState;
  lastState: ContainerState = {};
  restartCount = 0;
  ready = false;
  started = false;
  image: string;
  imageID = "";
  containerID: string | undefined;
  proc: ContainerProcess | undefined;
  log: ContainerLogWriter | undefined;
  private backoffMs = 0;
  private lastFailureAt = 0;

  constructor(spec: Container, init: boolean, waitingReason: string) {
    this.spec = spec;
    this.init = init;
    this.image = spec.image ?? "";
    this.state = { waiting: { reason: waitingReason } };
  }

  /** Adopts what the API says of this container; a running state from a previous agent is now lost. */
  seed(status: ContainerStatus | undefined): void {
    if (!status) return;
    this.restartCount = status.restartCount ?? 0;
    this.lastState = status.lastState ?? {};
    this.image = status.image || this.image;
    this.imageID = status.imageID ?? "";
    this.containerID = status.containerID;
    this.state = status.state ?? this.state;
    this.ready = Boolean(status.ready) && !this.state.running;
    if (this.state.running) {
      this.state = {
        terminated: {
          exitCode: 137,
          reason: "ContainerStatusUnknown",
          message: "The container could not be located when the node agent restarted",
          startedAt: this.state.running.startedAt,
          finishedAt: apiTime(),
          ...(this.containerID ? { containerID: this.containerID } : {}),
        },
      };
    }
  }

  /** The event field path of this container, e.g. spec.containers{main}. */
  get fieldPath(): string {
    return `spec.${this.init ? "initContainers" : "containers"}{${this.spec.name}}`;
  }

  /** An init container that already ran to success (seeded from a previous agent) is not run again. */
  get completedSuccessfully(): boolean {
    return this.state.terminated?.exitCode === 0;
  }

  status(): ContainerStatus {
    return {
      name: this.spec.name,
      state: this.state,
      lastState: this.lastState,
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      image: this.image,
      imageID: this.imageID,
      ...(this.containerID ? { containerID: this.containerID } : {}),
    };
  }

  /** The instance's process exists (its root is being built): signals reach it, status still waits. */
  launched(proc: ContainerProcess, log: ContainerLogWriter, image: string, imageID: string): void {
    this.proc = proc;
    this.log = log;
    this.image = image;
    this.imageID = imageID;
  }

  /** The command runs. */
  running(proc: ContainerProcess, startedAt: Date): void {
    this.containerID = `local://${proc.pid}`;
    this.state = { running: { startedAt: apiTime(startedAt) } };
    this.started = true;
    // No probes run here: a running container is ready (regular init containers become ready on success).
    this.ready = !this.init || this.spec.restartPolicy === "Always";
  }

  /** Records an exit: reason, exit code and the termination message (file, else log tail on error). */
  async exited(exit: ProcessExit, startedAt: Date | undefined, terminationFile: string | undefined): Promise<ContainerStateTerminated> {
    const t: ContainerStateTerminated = {
      exitCode: exit.exitCode,
      reason: exit.startError ? "StartError" : exit.exitCode === 0 ? "Completed" : "Error",
      startedAt: apiTime(startedAt ?? exit.finishedAt),
      finishedAt: apiTime(exit.finishedAt),
      ...(exit.signal ? { signal: exit.signal } : {}),
      ...(this.containerID && !exit.startError ? { containerID: this.containerID } : {}),
    };
    let message = exit.startError ?? (terminationFile ? readTerminationMessage(terminationFile) : "");
    if (!message && !exit.startError && exit.exitCode !== 0 && this.spec.terminationMessagePolicy === "FallbackToLogsOnError" && this.log) {
      message = await logTail(this.log.path);
    }
    if (message) t.message = message;
    this.state = { terminated: t };
    this.proc = undefined;
    this.log = undefined;
    // A regular init container that succeeded stays "ready": that is how Initialized is computed.
    this.ready = this.init && this.spec.restartPolicy !== "Always" && exit.exitCode === 0;
    this.started = false;
    if (exit.startError) this.containerID = undefined;
    return t;
  }

  /**
   * The delay before the next restart: none for the first, then 1 s doubling to 60 s, starting over after
   * a quiet spell of twice the maximum. While it runs, the container waits in CrashLoopBackOff.
   */
  backOff(podDesc: string): number {
    const now = Date.now();
    if (now - this.lastFailureAt > 2 * BACKOFF_MAX_MS) this.backoffMs = 0;
    const delay = this.backoffMs;
    this.backoffMs = this.backoffMs === 0 ? BACKOFF_INITIAL_MS : Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.lastFailureAt = now;
    if (delay > 0 && this.state.terminated) {
      this.lastState = { terminated: this.state.terminated };
      this.state = { waiting: { reason: "CrashLoopBackOff", message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.spec.name} pod=${podDesc}` } };
    }
    return delay;
  }

  /** The next instance replaces the last: its exit becomes lastState and restartCount counts it. */
  beginRestart(): void {
    if (this.state.terminated) this.lastState = { terminated: this.state.terminated };
    this.restartCount++;
  }

  waiting(reason: string, message?: string): void {
    this.state = { waiting: { reason, ...(message ? { message } : {}) } };
  }
}
