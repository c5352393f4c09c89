/**
 * Runs one pod, as a kubelet's pod worker does: volumes, then init containers in order, then the
 * containers side by side, restarting per restart policy with back-off; reports every state change; and
 * on deletion (or activeDeadlineSeconds) kills the processes (SIGTERM, grace, SIGKILL), reports the final
 * status and finishes the deletion (grace 0, UID precondition). Container starts and restarts live in
 * container-supervisor.ts; status arithmetic in pod-status.ts.
 */
import { rmSync } from "node:fs";
import { isApiError, type ApiClient } from "./api-client.ts";
import { ContainerRecord } from "./container-state.ts";
import { podDir, containerLogPath, type RunnerEnv } from "./container-runner.ts";
import { NODE_IP } from "./downward-api.ts";
import type { EventRecorder } from "./events.ts";
import type { Logger } from "./logger.ts";
import { PodObjects } from "./objects.ts";
import { apiTime, hasPodInitialized, podConditions, podPhase, terminalStatuses, type OwnedStatus } from "./pod-status.ts";
import { isRestartableInitContainer } from "./restart-policy.ts";
import { StatusSync } from "./status-sync.ts";
import { superviseContainer } from "./container-supervisor.ts";
import { podKey, type Pod } from "./types.ts";
import { prepareVolumes, type PreparedVolume } from "./volumes.ts";
import type { ContainerLogWriter } from "./container-log.ts";

export interface WorkerDeps {
  api: ApiClient;
  log: Logger;
  events: EventRecorder;
  runner: RunnerEnv;
}

/** The kubelet never gives a container less than this to stop (minimumGracePeriodInSeconds). */
const MIN_GRACE_SECONDS = 2;

export type LogSource = { path: string; writer?: ContainerLogWriter } | { error: string; code: number };

export class PodWorker {
  pod: Pod;
  readonly uid: string;
  readonly deps: WorkerDeps;
  readonly log: Logger;
  readonly init: ContainerRecord[];
  readonly regular: ContainerRecord[];
  readonly done: Promise<void>;
  private sandboxReady = false;
  private hadSandbox = false;
  private startTime: string | undefined;
  private terminal = false;
  private reason: string | undefined;
  private message: string | undefined;
  private stopping = false;
  private sidecarsStopping = false;
  private killDeadline = 0;
  private readonly killTimers = new Map<ContainerRecord, NodeJS.Timeout>();
  private waiters: Array<() => void> = [];
  private removed = false;
  private quiet = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deletionSeen!: () => void;
  private readonly deletion = new Promise<void>((resolve) => (this.deletionSeen = resolve));
  private readonly status: StatusSync;

  constructor(pod: Pod, deps: WorkerDeps) {
    this.pod = pod;
    this.uid = pod.metadata.uid ?? "";
    this.deps = deps;
    this.log = deps.log.child({ pod: podKey(pod), podUID: this.uid });
    const hasInit = (pod.spec.initContainers ?? []).length > 0;
    this.init = (pod.spec.initContainers ?? []).map((c) => new ContainerRecord(c, true, "PodInitializing"));
    this.regular = pod.spec.containers.map((c) => new ContainerRecord(c, false, hasInit ? "PodInitializing" : "ContainerCreating"));
    for (const r of this.init) r.seed(pod.status?.initContainerStatuses?.find((s) => s.name === r.spec.name));
    for (const r of this.regular) r.seed(pod.status?.containerStatuses?.find((s) => s.name === r.spec.name));
    this.status = new StatusSync(deps.api, this.log, { current: () => this.pod, adopt: (p) => this.adopt(p), compute: () => this.compute() });
    this.update(pod); // a pod may arrive already being deleted
    this.done = this.run().catch((err: unknown) => this.log.error({ err: String(err), stack: (err as Error).stack }, "Pod worker failed"));
  }

  stopped(rec: ContainerRecord): boolean {
    return this.stopping || (this.sidecarsStopping && isRestartableInitContainer(rec.spec) && rec.init);
  }

  /** "name_namespace(uid)", as the kubelet names a pod in messages. */
  get desc(): string {
    return `${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`;
  }

  /** A newer version of the pod from the watch. */
  update(pod: Pod): void {
    if (pod.metadata.uid !== this.uid) return;
    this.adopt(pod);
    if (pod.metadata.deletionTimestamp) {
      const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      this.requestStop(grace, "deleted");
      this.deletionSeen();
    }
  }

  private adopt(pod: Pod): void {
    const rv = (p: Pod) => Number(p.metadata.resourceVersion ?? 0);
    if (pod.metadata.uid === this.uid && (rv(pod) >= rv(this.pod) || Number.isNaN(rv(pod)))) this.pod = pod;
  }

  /** The pod is gone from the API (force deletion, or our own final delete): stop without reporting. */
  removedFromApi(): void {
    this.removed = true;
    this.quiet = true;
    this.requestStop(0, "removed");
    this.deletionSeen();
  }

  /** The agent stops: kill the processes quickly, write nothing (the next agent reports them lost). */
  async shutdown(graceSeconds: number): Promise<void> {
    this.quiet = true;
    this.requestStop(Math.min(graceSeconds, this.pod.spec.terminationGracePeriodSeconds ?? 30), "node agent stopping");
    this.deletionSeen();
    await this.done;
  }

  /** Stops every container, SIGKILL after `graceSeconds`; a later, shorter grace takes over. */
  requestStop(graceSeconds: number, why: string): void {
    const deadline = Date.now() + Math.max(graceSeconds, MIN_GRACE_SECONDS) * 1000;
    if (!this.stopping) {
      this.stopping = true;
      this.killDeadline = deadline;
      this.log.info({ why, graceSeconds }, "Stopping pod");
      for (const r of [...this.init, ...this.regular]) if (r.proc) this.kill(r);
      this.notify();
    } else if (deadline < this.killDeadline) {
      this.killDeadline = deadline;
      for (const r of this.killTimers.keys()) this.armKill(r);
    }
  }

  /** SIGTERM to the container's process group now, SIGKILL at the kill deadline. */
  kill(rec: ContainerRecord): void {
    if (!rec.proc || this.killTimers.has(rec)) return;
    this.log.info({ container: rec.spec.name, pid: rec.proc.pid, gracePeriodMs: this.killDeadline - Date.now() }, "Killing container with a grace period");
    this.deps.events.record(this.pod, "Normal", "Killing", `Stopping container ${rec.spec.name}`, rec.fieldPath);
    rec.proc.signal("SIGTERM");
    this.armKill(rec);
  }

  private armKill(rec: ContainerRecord): void {
    clearTimeout(this.killTimers.get(rec));
    const proc = rec.proc;
    if (!proc) return;
    this.killTimers.set(rec, setTimeout(() => proc.signal("SIGKILL"), Math.max(0, this.killDeadline - Date.now())));
  }

  containerExited(rec: ContainerRecord): void {
    clearTimeout(this.killTimers.get(rec));
    this.killTimers.delete(rec);
  }

  /** Resolves once `pred` holds, re-checked at every state change. */
  async waitFor(pred: () => boolean): Promise<void> {
    while (!pred()) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Sleeps `ms`, or less if the container is stopped meanwhile. */
  async sleep(ms: number, rec: ContainerRecord): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((r) => (timer = setTimeout(r, ms)));
    let done = false;
    void elapsed.then(() => {
      done = true;
      this.notify();
    });
    await this.waitFor(() => done || this.stopped(rec));
    clearTimeout(timer);
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Reports the current state (coalesced), and wakes whoever waits on a state change. */
  publish(): Promise<void> {
    this.notify();
    if (this.quiet) return Promise.resolve();
    return this.status.request();
  }

  private compute(): OwnedStatus {
    let init = this.init.map((r) => r.status());
    let regular = this.regular.map((r) => r.status());
    const initialized = hasPodInitialized(this.pod, init, regular);
    let phase = podPhase(this.pod, init, regular, this.terminal, initialized);
    if (this.terminal) ({ init, regular, phase } = terminalStatuses(this.pod, init, regular, phase));
    if (this.reason === "DeadlineExceeded") phase = "Failed";
    return {
      phase,
      conditions: podConditions(this.pod, init, regular, phase, this.sandboxReady && !this.terminal),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      ...(this.hadSandbox ? { podIP: NODE_IP } : {}),
      initContainerStatuses: init,
      containerStatuses: regular,
      ...(this.reason ? { reason: this.reason } : {}),
      ...(this.message ? { message: this.message } : {}),
    };
  }

  private async run(): Promise<void> {
    const phase = this.pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") {
      this.terminal = true; // finished before this agent started: nothing to run, only the deletion to finish
    } else {
      this.startTime = this.pod.status?.startTime ?? apiTime();
      this.armDeadline();
      void this.publish();
      const volumes = await this.prepareSandbox();
      if (volumes) {
        this.sandboxReady = this.hadSandbox = true;
        void this.publish();
        const sidecars: Array<Promise<unknown>> = [];
        if (await this.runInitContainers(volumes, sidecars)) await this.runContainers(volumes);
        await this.stopSidecars(sidecars);
      }
      clearTimeout(this.deadlineTimer);
      this.terminal = true;
      this.sandboxReady = false;
      await this.publish();
      rmSync(podDir(this.deps.runner.stateDir, this.pod), { recursive: true, force: true });
      this.log.info({ phase: this.compute().phase }, "Pod terminated");
    }
    await this.deletion;
    if (!this.removed && !this.quiet && this.pod.metadata.deletionTimestamp) await this.finishDeletion();
  }

  private armDeadline(): void {
    const ads = this.pod.spec.activeDeadlineSeconds;
    if (!ads || !this.startTime) return;
    const ms = Date.parse(this.startTime) + ads * 1000 - Date.now();
    this.deadlineTimer = setTimeout(() => {
      if (this.terminal || this.stopping) return;
      this.reason = "DeadlineExceeded";
      this.message = "Pod was active on the node longer than the specified deadline";
      this.deps.events.record(this.pod, "Normal", "DeadlineExceeded", this.message);
      this.requestStop(this.pod.spec.terminationGracePeriodSeconds ?? 30, "active deadline exceeded");
    }, Math.max(0, ms));
  }

  /** Volumes, retried with back-off (a Secret may be created after its pod) until they work or the pod stops. */
  private async prepareSandbox(): Promise<Map<string, PreparedVolume> | undefined> {
    let delay = 500;
    let lastMessage = "";
    const sentinel = this.regular[0] ?? this.init[0]!;
    while (!this.stopping) {
      try {
        return await prepareVolumes(this.pod, podDir(this.deps.runner.stateDir, this.pod), new PodObjects(this.deps.api, this.pod.metadata.namespace ?? ""), this.deps.runner.node);
      } catch (err) {
        const message = `MountVolume.SetUp failed: ${(err as Error).message}`;
        if (message !== lastMessage) {
          this.log.warn({ err: message }, "Unable to prepare pod volumes");
          this.deps.events.record(this.pod, "Warning", "FailedMount", message);
          lastMessage = message;
        }
        await this.sleep(delay, sentinel);
        delay = Math.min(delay * 2, 10_000);
      }
    }
    return undefined;
  }

  private async runInitContainers(volumes: Map<string, PreparedVolume>, sidecars: Array<Promise<unknown>>): Promise<boolean> {
    for (const rec of this.init) {
      if (this.stopping) return false;
      if (rec.completedSuccessfully) continue;
      if (isRestartableInitContainer(rec.spec)) {
        sidecars.push(superviseContainer(this, rec, volumes));
        await this.waitFor(() => rec.started || this.stopping);
        continue;
      }
      const exitCode = await superviseContainer(this, rec, volumes);
      if (exitCode !== 0) return false;
    }
    return !this.stopping;
  }

  private async runContainers(volumes: Map<string, PreparedVolume>): Promise<void> {
    for (const rec of this.regular) if (rec.state.waiting?.reason === "PodInitializing") rec.waiting("ContainerCreating");
    void this.publish();
    await Promise.all(this.regular.map((rec) => superviseContainer(this, rec, volumes)));
  }

  /** Native sidecars stop once the containers are done (or with the pod). */
  private async stopSidecars(sidecars: Array<Promise<unknown>>): Promise<void> {
    if (sidecars.length === 0) return;
    this.sidecarsStopping = true;
    if (!this.stopping) this.killDeadline = Date.now() + Math.max(this.pod.spec.terminationGracePeriodSeconds ?? 30, MIN_GRACE_SECONDS) * 1000;
    for (const r of this.init) if (r.proc) this.kill(r);
    this.notify();
    await Promise.all(sidecars);
  }

  /** The last step of a graceful deletion, which only the node may take: delete with grace 0. */
  private async finishDeletion(): Promise<void> {
    const { namespace, name } = this.pod.metadata;
    try {
      await this.deps.api.request(`/api/v1/namespaces/${namespace}/pods/${name}`, {
        method: "DELETE",
        body: { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
      this.log.info("Pod deleted");
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) this.log.warn({ err: String(err) }, "Failed to delete pod");
    }
  }

  /** Which log file `kubectl logs` reads, following the kubelet's validateContainerLogStatus. */
  logSource(container: string, previous: boolean): LogSource {
    const rec = [...this.regular, ...this.init].find((r) => r.spec.name === container);
    const pod = this.pod.metadata.name ?? "";
    if (!rec) return { code: 404, error: `container "${container}" not found in pod "${pod}"` };
    const path = (n: number) => containerLogPath(this.deps.runner.stateDir, this.pod, container, n);
    const { state, lastState } = rec;
    if (previous) {
      if (!lastState.terminated) return { code: 400, error: `previous terminated container "${container}" in pod "${pod}" not found` };
      return { path: path(state.waiting ? rec.restartCount : rec.restartCount - 1) };
    }
    if (state.running) return { path: path(rec.restartCount), ...(rec.log ? { writer: rec.log } : {}) };
    if (state.terminated?.containerID || (state.terminated && lastState.terminated)) return { path: path(rec.restartCount) };
    if (state.terminated) return { code: 400, error: `container "${container}" in pod "${pod}" is terminated` };
    if (lastState.terminated) return { path: path(rec.restartCount) };
    const reason = state.waiting?.reason ?? "";
    if (reason === "ErrImagePull") return { code: 400, error: `container "${container}" in pod "${pod}" is waiting to start: image can't be pulled` };
    return { code: 400, error: `container "${container}" in pod "${pod}" is waiting to start: ${reason}` };
  }
}
