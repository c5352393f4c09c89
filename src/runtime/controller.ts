/**
 * The reconcile loop: N workers take keys from a {@link WorkQueue} and call the reconciler with the key
 * alone. The reconciler re-reads the world (cache, apiserver, the system it manages) and moves it one step
 * towards the spec; it never learns whether the object was added, changed or deleted, so a missed or
 * duplicated event cannot make it do the wrong thing.
 *
 * What a reconcile's outcome does to its key:
 * - `{ done: true }`: forget the key's backoff; nothing is scheduled.
 * - `{ requeueAfter: ms }`: forget the backoff; reconcile again after `ms` (polling a Job, a schedule's
 *   next run).
 * - an error thrown: requeue with the rate limiter's backoff and log it.
 * - a {@link TerminalError}: forget the key, log it, no retry until an event for the object arrives.
 * - a {@link ConflictError} or a raw 409: requeue with backoff, logged at debug only — optimistic
 *   concurrency doing its job.
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
import { keyFromString, keyToString, type KubeObject, type ObjectKey } from "./resource.ts";
import { WorkQueue } from "./work-queue.ts";

export type Result = { done: true } | { requeueAfter: number };

/** The reconcile finished; nothing to do until the next event. */
export const DONE: Result = Object.freeze({ done: true });

/** Reconcile this key again after `ms` milliseconds. */
export function requeueAfter(ms: number): Result {
  return { requeueAfter: ms };
}

export interface ReconcileContext {
  /** A child logger carrying controller, namespace, name and reconcileID. */
  log: Logger;
  reconcileID: string;
  /** Aborted when the manager stops and the drain deadline has passed, or leadership is lost. */
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
  metrics?: RuntimeMetrics;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #opts: ControllerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #abort = new AbortController();
  #workers: Promise<void> | undefined;

  constructor(opts: ControllerOptions) {
    this.name = opts.name;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.logger.child({ controller: opts.name });
    this.queue = new WorkQueue({
      clock: this.#clock,
      rateLimiter: opts.rateLimiter ?? defaultControllerRateLimiter<string>(this.#clock),
      ...(opts.metrics ? { metrics: opts.metrics.queueMetrics(opts.name) } : {}),
    });
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
    this.#opts.metrics?.maxConcurrentReconciles.set({ controller: this.name }, n);
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
    const m = this.#opts.metrics;
    const labels = { controller: this.name };
    m?.activeWorkers.inc(labels);
    const started = this.#clock.now().getTime();
    let result: ReconcileResultLabel;
    try {
      const res = await this.#opts.reconcile(objKey, { log, reconcileID, signal: this.#abort.signal });
      this.queue.forget(key);
      if ("requeueAfter" in res && res.requeueAfter > 0) {
        this.queue.addAfter(key, res.requeueAfter);
        result = "requeue_after";
      } else {
        result = "success";
      }
    } catch (err) {
      if (isTerminalError(err)) {
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
}
