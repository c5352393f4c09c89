/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules, so that of several manager
 * replicas exactly one reconciles:
 *
 * - A candidate takes the lease when it does not exist, is released (empty holder), or has not changed
 *   for `leaseDuration` as measured on the candidate's own clock since it last saw it change. Measuring
 *   locally, not against renewTime, makes clock skew between nodes harmless.
 * - The leader renews every `retryPeriod`. If it cannot renew for `renewDeadline` it stops leading at once
 *   (aborting the signal it gave onStartedLeading). Because renewDeadline < leaseDuration, the old leader
 *   has stopped before any candidate may take over: the gap (5 s with the defaults) is the time in-flight
 *   work has to notice the abort.
 * - Every write carries the lease's resourceVersion: two candidates racing for a free lease cannot both
 *   win (one gets 409).
 * - On a clean stop the leader releases the lease (empty holder), so a successor takes over within one
 *   retry period instead of waiting out the lease.
 *
 * - {@link LeaderElector.holdsLease} answers whether this candidate may still act as leader *now*: leading,
 *   and its last successful renewal started less than renewDeadline ago. Measured from the start of the
 *   request, not its answer, because the apiserver may have stamped the renewal any time in between.
 *   The manager fences its writes with it (manager.ts), so a leader whose renewals hang stops writing
 *   at the renew deadline even before the renew loop notices.
 *
 * Crash windows: a leader that is SIGKILLed leaves the lease held; successors take over `leaseDuration`
 * (+ up to one retry period) after its last renewal. A leader paused longer than renewDeadline (a stopped
 * VM) may resume believing it leads until its next renew attempt fails; reconcilers limit the damage by
 * writing with resourceVersion preconditions.
 */
import type { Logger } from "pino";
import { jitter, realClock, sleep, type Clock } from "./clock.ts";
import { toMicroTime } from "./conditions.ts";
import { isAlreadyExists, isConflict, isNotFound } from "./errors.ts";
import type { KubeClient } from "./rest-client.ts";

export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: string;
  renewTime: string;
  leaseTransitions: number;
}

/** Storage of the election record; {@link KubeLeaseLock} is the real one, tests use an in-memory one. */
export interface LeaseLock {
  describe(): string;
  get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; resourceVersion: string } | undefined>;
  /** Rejects when the lease already exists. */
  create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void>;
  /** Rejects when the lease is no longer at `resourceVersion`. */
  update(record: LeaderElectionRecord, resourceVersion: string, signal?: AbortSignal): Promise<void>;
}

export interface LeaderElectorOptions {
  lock: LeaseLock;
  /** Unique per candidate: the pod name plus a random suffix. */
  identity: string;
  logger: Logger;
  clock?: Clock;
  /** Default 15 s. Rounded up to whole seconds in the Lease. */
  leaseDurationMs?: number;
  /** Default 10 s. */
  renewDeadlineMs?: number;
  /** Default 2 s. */
  retryPeriodMs?: number;
  /** Called on gaining the lease; `signal` aborts when leadership ends for any reason. */
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?(identity: string): void;
  /** Release the lease when run()'s signal aborts. Default true. */
  releaseOnCancel?: boolean;
}

/** Why run() returned. */
export type ElectionEnd = "stopped" | "lost";

export class LeaderElector {
  readonly identity: string;
  readonly #o: Required<Omit<LeaderElectorOptions, "onNewLeader" | "clock">> & Pick<LeaderElectorOptions, "onNewLeader">;
  readonly #clock: Clock;
  readonly #log: Logger;
  #observed: LeaderElectionRecord | undefined;
  #observedAt = 0;
  #leader = false;
  /** Clock ms at the start of the last successful acquire or renew. */
  #renewedAt = 0;
  #reportedLeader: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.identity = opts.identity;
    this.#clock = opts.clock ?? realClock;
    this.#o = {
      ...opts,
      leaseDurationMs: opts.leaseDurationMs ?? 15_000,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnCancel: opts.releaseOnCancel ?? true,
    };
    this.#log = opts.logger.child({ component: "leader-election", lease: opts.lock.describe(), identity: opts.identity });
    const { leaseDurationMs: lease, renewDeadlineMs: renew, retryPeriodMs: retry } = this.#o;
    if (!(lease > renew)) throw new RangeError(`leaseDuration (${lease} ms) must be greater than renewDeadline (${renew} ms)`);
    if (!(renew > retry * 1.2)) throw new RangeError(`renewDeadline (${renew} ms) must be greater than 1.2 × retryPeriod (${retry} ms)`);
    if (retry <= 0) throw new RangeError("retryPeriod must be positive");
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /** Leading, and the lease renewed within the renew deadline: writes as leader are safe now. */
  holdsLease(): boolean {
    return this.#leader && this.#clock.now().getTime() - this.#renewedAt < this.#o.renewDeadlineMs;
  }

  /** The holder last observed ("" when released or not yet seen). */
  observedLeader(): string {
    return this.#observed?.holderIdentity ?? "";
  }

  /**
   * Campaigns until leading, leads until the lease is lost or `signal` aborts, then returns. Never throws;
   * API errors are retried each retry period.
   */
  async run(signal: AbortSignal): Promise<ElectionEnd> {
    this.#log.info("Attempting to acquire leader lease");
    while (!(await this.#attempt(this.#o.renewDeadlineMs))) {
      if (!(await sleep(this.#clock, jitter(this.#o.retryPeriodMs, 1.2), signal))) return "stopped";
    }
    if (signal.aborted) {
      await this.#release();
      return "stopped";
    }
    this.#log.info("Successfully acquired lease");
    this.#leader = true;
    const leading = new AbortController();
    this.#o.onStartedLeading(leading.signal);
    let end: ElectionEnd = "stopped";
    while (await sleep(this.#clock, this.#o.retryPeriodMs, signal)) {
      const remaining = this.#o.renewDeadlineMs - (this.#clock.now().getTime() - this.#renewedAt);
      if (remaining > 0 && (await this.#attempt(remaining))) continue;
      if (this.#clock.now().getTime() - this.#renewedAt >= this.#o.renewDeadlineMs) {
        this.#log.error({ renewDeadlineMs: this.#o.renewDeadlineMs }, "Failed to renew lease within the renew deadline; leader election lost");
        end = "lost";
        break;
      }
    }
    this.#leader = false;
    leading.abort(new Error(end === "lost" ? "leader election lost" : "stopping"));
    if (end === "stopped" && this.#o.releaseOnCancel) await this.#release();
    this.#o.onStoppedLeading();
    return end;
  }

  /**
   * One acquire-or-renew round, abandoned after `timeoutMs` (even by a lock that ignores its signal:
   * the round is raced against the deadline); true when this candidate holds the lease.
   */
  async #attempt(timeoutMs: number): Promise<boolean> {
    const abort = new AbortController();
    const started = this.#clock.now().getTime();
    const cancel = this.#clock.setTimeout(() => abort.abort(new Error("lease request timed out")), timeoutMs);
    const deadline = new Promise<never>((_resolve, reject) => abort.signal.addEventListener("abort", () => reject(abort.signal.reason as Error), { once: true }));
    try {
      const held = await Promise.race([this.#tryAcquireOrRenew(abort.signal), deadline]);
      if (held) this.#renewedAt = started;
      return held;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) this.#log.debug({ err }, "Lost a race for the lease");
      else this.#log.warn({ err }, "Error acquiring or renewing lease");
      return false;
    } finally {
      cancel();
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const now = this.#clock.now();
    const nowMs = now.getTime();
    const durationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const current = await this.#o.lock.get(signal);
    if (!current) {
      const record: LeaderElectionRecord = { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: toMicroTime(now), renewTime: toMicroTime(now), leaseTransitions: 0 };
      await this.#o.lock.create(record, signal);
      this.#observe(record, nowMs);
      return true;
    }
    const rec = current.record;
    if (!this.#observed || !sameRecord(rec, this.#observed)) this.#observe(rec, nowMs);
    const mine = rec.holderIdentity === this.identity;
    if (rec.holderIdentity !== "" && !mine && this.#observedAt + rec.leaseDurationSeconds * 1000 > nowMs) return false;
    const next: LeaderElectionRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: mine ? rec.acquireTime : toMicroTime(now),
      renewTime: toMicroTime(now),
      leaseTransitions: mine ? rec.leaseTransitions : rec.leaseTransitions + 1,
    };
    await this.#o.lock.update(next, current.resourceVersion, signal);
    this.#observe(next, nowMs);
    return true;
  }

  #observe(record: LeaderElectionRecord, atMs: number): void {
    this.#observed = record;
    this.#observedAt = atMs;
    if (record.holderIdentity !== this.#reportedLeader) {
      this.#reportedLeader = record.holderIdentity;
      if (record.holderIdentity && record.holderIdentity !== this.identity) this.#log.info({ leader: record.holderIdentity }, "New leader elected");
      this.#o.onNewLeader?.(record.holderIdentity);
    }
  }

  /** Hands the lease back (empty holder) if this candidate still holds it. Best effort: errors are logged. */
  async #release(): Promise<void> {
    const abort = new AbortController();
    const cancel = this.#clock.setTimeout(() => abort.abort(new Error("lease release timed out")), this.#o.renewDeadlineMs);
    try {
      const current = await this.#o.lock.get(abort.signal);
      if (!current || current.record.holderIdentity !== this.identity) return;
      const now = toMicroTime(this.#clock.now());
      await this.#o.lock.update({ holderIdentity: "", leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.record.leaseTransitions }, current.resourceVersion, abort.signal);
      this.#log.info("Released leader lease");
    } catch (err) {
      this.#log.warn({ err }, "Failed to release leader lease; successors wait for it to expire");
    } finally {
      cancel();
    }
  }
}

function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.renewTime === b.renewTime && a.acquireTime === b.acquireTime && a.leaseTransitions === b.leaseTransitions && a.leaseDurationSeconds === b.leaseDurationSeconds;
}

interface LeaseObject {
  metadata?: { resourceVersion?: string };
  spec?: Partial<LeaderElectionRecord> & { holderIdentity?: string | null };
}

/** The election record stored in a coordination.k8s.io/v1 Lease. */
export class KubeLeaseLock implements LeaseLock {
  readonly #client: KubeClient;
  readonly #namespace: string;
  readonly #name: string;

  constructor(client: KubeClient, namespace: string, name: string) {
    this.#client = client;
    this.#namespace = namespace;
    this.#name = name;
  }

  describe(): string {
    return `${this.#namespace}/${this.#name}`;
  }

  #path(withName: boolean): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.#namespace)}/leases`;
    return withName ? `${base}/${encodeURIComponent(this.#name)}` : base;
  }

  async get(signal?: AbortSignal): Promise<{ record: LeaderElectionRecord; resourceVersion: string } | undefined> {
    let lease: LeaseObject;
    try {
      lease = await this.#client.request<LeaseObject>("GET", this.#path(true), signal ? { signal } : {});
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const s = lease.spec ?? {};
    return {
      resourceVersion: lease.metadata?.resourceVersion ?? "",
      record: {
        holderIdentity: s.holderIdentity ?? "",
        leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
        acquireTime: s.acquireTime ?? "",
        renewTime: s.renewTime ?? "",
        leaseTransitions: s.leaseTransitions ?? 0,
      },
    };
  }

  async create(record: LeaderElectionRecord, signal?: AbortSignal): Promise<void> {
    await this.#client.request("POST", this.#path(false), {
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: this.#name, namespace: this.#namespace }, spec: record },
      ...(signal ? { signal } : {}),
    });
  }

  async update(record: LeaderElectionRecord, resourceVersion: string, signal?: AbortSignal): Promise<void> {
    await this.#client.request("PUT", this.#path(true), {
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: this.#name, namespace: this.#namespace, resourceVersion }, spec: record },
      ...(signal ? { signal } : {}),
    });
  }
}
