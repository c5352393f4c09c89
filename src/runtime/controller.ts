/**
 * The reconcile loop: N workers take keys from a {@link WorkQueue} and call the reconciler with the key
 * alone. The reconciler re-reads the world (cache, apiserver, the system it manages) and moves it one step
 * towards the spec; it never learns whether the object was added, changed or deleted, so a missed or
 * duplicated event cannot make it do the wrong thing.
 *
 * What a reconcile's outcome does to its key:
 *
 * | outcome | the key | metric `result` |
 * |---|---|---|
 * | {@link DONE} | backoff forgotten; nothing scheduled: the next event reconciles it | `success` |
 * | {@link requeue}() | again now, through the rate limiter (per-key backoff grows while it repeats) | `requeue` |
 * | {@link requeueAfter}(ms), ms > 0 | backoff forgotten; again after `ms` (a Job's recheck, a schedule's next tick) | `requeue_after` |
 * | an error thrown | again with the rate limiter's backoff; logged | `error` |
 * | a {@link TerminalError} | forgotten; logged; not retried until an event for the object arrives | `terminal_error` |
 * | a {@link ConflictError} or a raw 409 | again with backoff, logged at debug only: optimistic concurrency doing its job | `requeue` |
 *
 * There is no "requeue after 0": {@link requeueAfter} refuses a delay that is not a positive number, so
 * "again now" is always said with {@link requeue} and never silently means done.
 *
 * Each reconcile gets an AbortSignal (`ctx.signal`), aborted when the manager's drain deadline passes or
 * the leader lease is lost. The reconcile runs with it as the ambient signal (reconcile-signal.ts): every
 * Kubernetes request it makes obeys it without being handed it; clients of other systems take
 * `ctx.signal` explicitly.
 *
 * Crash window: a reconcile may be interrupted at any line (SIGKILL, lost lease). The next one, in this
 * process or another, starts from the key again; reconcilers must be idempotent for this to be safe.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { realClock, sleep, type Clock } from "./clock.ts";
import { isConflict, isConflictError, isTerminalError } from "./errors.ts";
import type { Enqueue } from "./handlers.ts";
import type { EventHandler, Informer } from "./informer.ts";
import type { ReconcileResultLabel, RuntimeMetrics } from "./metrics.ts";
import { defaultControllerRateLimiter, type RateLimiter } from "./rate-limiter.ts";
import { runWithSignal } from "./reconcile-signal.ts";
import { keyFromString, keyToString, type KubeObject, type ObjectKey } from "./resource.ts";
import { WorkQueue, type QueueMetrics } from "./work-queue.ts";

export type Result = { done: true } | { requeue: true } | { requeueAfter: number };

/** The reconcile finished; nothing to do until the next event. */
export const DONE: Result = Object.freeze({ done: true });

const REQUEUE: Result = Object.freeze({ requeue: true });

/**
 * Reconcile this key again now, through the work queue's rate limiter: the next step needs the state
 * this reconcile just wrote (and its informer may not have it yet, which the re-read handles), or the
 * work was cut into steps. Repeated requeues back off as errors do; the next DONE or requeueAfter
 * forgets the backoff.
 */
export function requeue(): Result {
  return REQUEUE;
}

/** Reconcile this key again after `ms` milliseconds; `ms` must be a positive finite number (use {@link requeue} for "now"). */
export function requeueAfter(ms: number): Result {
  if (!(Number.isFinite(ms) && ms > 0)) throw new RangeError(`requeueAfter(${ms}): the delay must be a positive number of milliseconds; use requeue() to reconcile again now`);
  return { requeueAfter: ms };
}

export interface ReconcileContext {
  /** A child logger carrying controller, namespace, name and reconcileID. */
  log: Logger;
  reconcileID: string;
  /**
   * Aborted when the manager stops and the drain deadline has passed, or leadership is lost. Every
   * Kubernetes request of the reconcile obeys it already (it is their ambient signal); pass it to
   * clients of other systems (Qdrant, S3), and stop long work when it aborts.
   */
  signal: AbortSignal;
}

export type Reconciler = (key: ObjectKey, ctx: ReconcileContext) => Promise<Result>;

export interface ControllerOptions {
  /** Unique per manager; the metrics' `controller` label and the queue's name. */
  name: string;
  reconcile: Reconciler;
  logger: Logger;
  /** Concurrent reconciles (never two for one key). Default 1. */
  workers?: number;
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  /** The runtime's reconcile and queue metrics; a {@link Manager} gives its own to every controller it is given. */
  metrics?: RuntimeMetrics;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #metrics: RuntimeMetrics | undefined;
  #queueMetrics: QueueMetrics | undefined;
  #workers: Promise<void> | undefined;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.logger.child({ controller: opts.name });
    this.#metrics = opts.metrics;
    this.#queueMetrics = opts.metrics?.queueMetrics(opts.name);
    // The hooks look the metrics up on each call: a manager may hand them over after construction.
    this.queue = new WorkQueue({
      clock: this.#clock,
      rateLimiter: opts.rateLimiter ?? defaultControllerRateLimiter<string>(this.#clock),
      metrics: {
        depth: (n) => this.#queueMetrics?.depth(n),
        added: () => this.#queueMetrics?.added(),
        queueLatency: (s) => this.#queueMetrics?.queueLatency(s),
        workDuration: (s) => this.#queueMetrics?.workDuration(s),
        retried: () => this.#queueMetrics?.retried(),
      },
    });
  }

  /**
   * Reports reconciles and the queue to `metrics`, unless the controller was built with metrics of its
   * own. {@link Manager.addController} calls it, so every controller of a manager is measured.
   */
  useMetrics(metrics: RuntimeMetrics): void {
    if (this.#metrics) return;
    this.#metrics = metrics;
    this.#queueMetrics = metrics.queueMetrics(this.name);
    this.#queueMetrics.depth(this.queue.len());
  }

  /** Queues a key (e.g. from a timer or another controller). */
  enqueue(key: ObjectKey | string): void {
    this.queue.add(typeof key === "string" ? key : keyToString(key));
  }

  /**
   * Feeds an informer's events to this controller through `handler` (see handlers.ts), e.g.
   * `c.watch(jobs, (enqueue) => enqueueOwner(enqueue, { group: "example.com", kind: "Backup" }))`.
   * Keys queue up before start(); when workers start (on gaining leadership) every cached object is pending.
   */
  watch<T extends KubeObject>(informer: Informer<T>, handler: (enqueue: Enqueue) => EventHandler<T>): void {
    informer.addEventHandler(handler((key) => this.queue.add(key)));
  }

  /** Starts the workers; resolves when they have all exited after stop(). */
  start(): Promise<void> {
    if (this.#workers) return this.#workers;
    const n = this.#opts.workers ?? 1;
    this.#metrics?.maxConcurrentReconciles.set({ controller: this.name }, n);
    this.#log.info({ workers: n }, "Starting workers");
    this.#workers = Promise.all(Array.from({ length: n }, () => this.#worker())).then(() => {
      this.#log.info("All workers finished");
    });
    return this.#workers;
  }

  /**
   * Stops taking keys and waits for in-flight reconciles to finish. After `drainTimeoutMs` their signal is
   * aborted; after as long again this returns anyway (a reconcile that ignores its signal is abandoned —
   * the process is about to exit, and the next leader redoes its work).
   */
  async stop(drainTimeoutMs = 30_000): Promise<void> {
    const inFlight = this.queue.inFlight();
    if (inFlight > 0) this.#log.info({ inFlight }, "Shutdown signal received, waiting for all workers to finish");
    const drained = this.queue.shutDownWithDrain().then(() => true);
    const timedOut = () => sleep(this.#clock, drainTimeoutMs).then(() => false);
    if (!(await Promise.race([drained, timedOut()]))) {
      this.#log.warn({ inFlight: this.queue.inFlight() }, "Timed out waiting for in-flight reconciles; aborting them");
      this.#abort.abort(new Error("controller stopping"));
      await Promise.race([drained, timedOut()]);
    }
    if (this.#workers) await Promise.race([this.#workers, timedOut()]);
  }

  /** Aborts the signal of every in-flight reconcile at once (leadership lost: stop writing now). */
  abortInFlight(reason: string): void {
    this.#abort.abort(new Error(reason));
  }

  async #worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.#process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  async #process(key: string): Promise<void> {
    const objKey = keyFromString(key);
    const reconcileID = randomUUID();
    const log = this.#log.child({ namespace: objKey.namespace, name: objKey.name, reconcileID });
    const m = this.#metrics;
    const labels = { controller: this.name };
    m?.activeWorkers.inc(labels);
    const started = this.#clock.now().getTime();
    const signal = this.#abort.signal;
    let result: ReconcileResultLabel;
    try {
      const res = await runWithSignal(signal, () => this.#opts.reconcile(objKey, { log, reconcileID, signal }));
      result = this.#apply(key, res, log);
    } catch (err) {
      if (signal.aborted) {
        // Stopping or deposed: the queue takes no more keys; the next leader redoes this one.
        log.info({ err, reason: String(signal.reason) }, "Reconcile aborted");
        result = "error";
      } else if (isTerminalError(err)) {
        this.queue.forget(key);
        m?.terminalReconcileErrors.inc(labels);
        log.error({ err }, "Reconciler error (terminal; not retried until the object changes)");
        result = "terminal_error";
      } else if (isConflictError(err) || isConflict(err)) {
        this.queue.addRateLimited(key);
        log.debug({ err }, "Conflict writing an object; requeueing");
        result = "requeue";
      } else {
        this.queue.addRateLimited(key);
        m?.reconcileErrors.inc(labels);
        log.error({ err, retries: this.queue.numRequeues(key) }, "Reconciler error");
        result = "error";
      }
    } finally {
      m?.activeWorkers.dec(labels);
    }
    m?.reconcileTotal.inc({ ...labels, result });
    m?.reconcileTime.observe(labels, (this.#clock.now().getTime() - started) / 1000);
  }

  /** What a returned result does to the key (the table at the top of this file). */
  #apply(key: string, res: Result, log: Logger): ReconcileResultLabel {
    if ("requeue" in res && res.requeue) {
      this.queue.addRateLimited(key);
      return "requeue";
    }
    this.queue.forget(key);
    if ("requeueAfter" in res) {
      if (Number.isFinite(res.requeueAfter) && res.requeueAfter > 0) {
        this.queue.addAfter(key, res.requeueAfter);
        return "requeue_after";
      }
      // Built by hand, bypassing requeueAfter()'s check: a bug, but never a silent "done".
      this.queue.addRateLimited(key);
      this.#metrics?.reconcileErrors.inc({ controller: this.name });
      log.error({ requeueAfter: res.requeueAfter }, "Reconciler returned requeueAfter without a positive delay; requeueing with backoff (return requeue() to reconcile again now)");
      return "error";
    }
    return "success";
  }
}
