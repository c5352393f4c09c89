/**
 * The work queue between event handlers and reconcile workers, with client-go's contract:
 *
 * - a key is queued at most once however often it is added before a worker takes it (de-duplication);
 * - a key a worker is processing is never handed to a second worker; if it is added meanwhile, it is
 *   queued again when the first worker calls {@link WorkQueue.done} (so the change is not lost);
 * - delayed adds ({@link WorkQueue.addAfter}) keep only the earliest pending time per key;
 * - rate-limited adds ask the {@link RateLimiter} how long the key must wait.
 *
 * Keys are strings ("namespace/name") so that equality is value equality.
 *
 * Unlike client-go, {@link WorkQueue.get} returns `undefined` as soon as the queue is shut down even if keys
 * are still queued: a manager that is stopping (SIGTERM, lost lease) must not start new reconciles; the keys
 * are not lost, the next leader lists every object and reconciles it anyway.
 */
import type { Cancel, Clock } from "./clock.ts";
import type { RateLimiter } from "./rate-limiter.ts";

/** Hooks the queue calls; metrics.ts provides a prom-client implementation. */
export interface QueueMetrics {
  /** Keys waiting for a worker (not counting delayed or in-flight keys). */
  depth(n: number): void;
  added(): void;
  /** Seconds a key waited between being queued and handed to a worker. */
  queueLatency(seconds: number): void;
  /** Seconds between a worker taking a key and calling done(). */
  workDuration(seconds: number): void;
  retried(): void;
}

export const noopQueueMetrics: QueueMetrics = {
  depth() {},
  added() {},
  queueLatency() {},
  workDuration() {},
  retried() {},
};

export interface WorkQueueOptions {
  clock: Clock;
  rateLimiter: RateLimiter<string>;
  metrics?: QueueMetrics;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<string>;
  readonly #metrics: QueueMetrics;
  readonly #queue: string[] = [];
  /** Keys that need processing: queued, or added again while in flight. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Map<string, number>();
  readonly #queuedAt = new Map<string, number>();
  readonly #waiting = new Map<string, { at: number; cancel: Cancel }>();
  #getters: Array<(key: string | undefined) => void> = [];
  #shuttingDown = false;
  #drained: Array<() => void> = [];

  constructor(opts: WorkQueueOptions) {
    this.#clock = opts.clock;
    this.#limiter = opts.rateLimiter;
    this.#metrics = opts.metrics ?? noopQueueMetrics;
  }

  /** Queues `key` now. Ignored after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#queuedAt.set(key, this.#nowMs());
    this.#metrics.added();
    if (this.#processing.has(key)) return; // done() re-queues it
    this.#queue.push(key);
    this.#metrics.depth(this.#queue.length);
    this.#dispatch();
  }

  /** Queues `key` after `ms`; of several pending delays for one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#nowMs() + ms;
    const pending = this.#waiting.get(key);
    if (pending) {
      if (pending.at <= at) return;
      pending.cancel();
    }
    const cancel = this.#clock.setTimeout(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { at, cancel });
  }

  /** Queues `key` after the rate limiter's delay for it (one more failure recorded). */
  addRateLimited(key: string): void {
    if (this.#shuttingDown) return;
    this.#metrics.retried();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears the key's backoff; call after a success or a terminal failure. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /** Resolves with the next key, or `undefined` once the queue is shut down. The caller must call done(key). */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#take(key));
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  /** Marks the key processed; if it was added meanwhile it is queued again now. */
  done(key: string): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration((this.#nowMs() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shuttingDown) {
      this.#queue.push(key);
      this.#metrics.depth(this.#queue.length);
      this.#dispatch();
    }
    if (this.#processing.size === 0) this.#resolveDrained();
  }

  /** Keys waiting for a worker. */
  len(): number {
    return this.#queue.length;
  }

  /** Keys a worker holds right now. */
  inFlight(): number {
    return this.#processing.size;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Stops handing out keys: waiting and future get() calls resolve undefined; adds are ignored. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { cancel } of this.#waiting.values()) cancel();
    this.#waiting.clear();
    this.#queue.length = 0;
    this.#metrics.depth(0);
    const getters = this.#getters;
    this.#getters = [];
    for (const g of getters) g(undefined);
    if (this.#processing.size === 0) this.#resolveDrained();
  }

  /** shutDown(), then resolves when every key handed out has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  #dispatch(): void {
    while (this.#getters.length > 0 && this.#queue.length > 0) {
      const getter = this.#getters.shift()!;
      getter(this.#take(this.#queue.shift()!));
    }
  }

  #take(key: string): string {
    this.#metrics.depth(this.#queue.length);
    const now = this.#nowMs();
    const queuedAt = this.#queuedAt.get(key);
    if (queuedAt !== undefined) this.#metrics.queueLatency((now - queuedAt) / 1000);
    this.#queuedAt.delete(key);
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    return key;
  }

  #resolveDrained(): void {
    const drained = this.#drained;
    this.#drained = [];
    for (const d of drained) d();
  }

  #nowMs(): number {
    return this.#clock.now().getTime();
  }
}
