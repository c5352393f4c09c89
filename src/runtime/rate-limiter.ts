/**
 * How long a failed key waits before its next attempt. The default combines a per-key exponential backoff
 * (one broken object retries slowly) with an overall token bucket (a thousand objects failing at once do not
 * hammer the apiserver), taking the larger delay, as client-go's default controller rate limiter does.
 */
import type { Clock } from "./clock.ts";

export interface RateLimiter<K> {
  /** Delay in ms before `key` may be processed again; counts one more failure for it. */
  when(key: K): number;
  /** Clears the key's failure history (it succeeded, or it is gone). */
  forget(key: K): void;
  /** Failures recorded for `key` since it was last forgotten. */
  numRequeues(key: K): number;
}

/** base·2^failures, capped at max: 5 ms, 10 ms, 20 ms … 1000 s with the defaults. */
export class ExponentialFailureRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs = 5, maxMs = 1_000_000) {
    if (baseMs <= 0 || maxMs < baseMs) throw new RangeError(`invalid backoff: base ${baseMs} ms, max ${maxMs} ms`);
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: K): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; min() then yields the cap, which is what we want.
    return Math.min(this.#baseMs * 2 ** n, this.#maxMs);
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * A token bucket shared by all keys: `burst` immediate retries, then `qps` per second. A reservation is
 * taken even when the bucket is empty (tokens go negative) and the caller waits for it, so delays grow
 * with the backlog instead of every caller retrying at once.
 */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;

  constructor(clock: Clock, qps = 10, burst = 100) {
    if (qps <= 0 || burst < 1) throw new RangeError(`invalid token bucket: ${qps} qps, burst ${burst}`);
    this.#clock = clock;
    this.#qps = qps;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = clock.now().getTime();
  }

  when(_key: K): number {
    const now = this.#clock.now().getTime();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The largest delay of several limiters; every limiter records the failure. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(key));
    return max;
  }

  forget(key: K): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: K): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(key));
    return max;
  }
}

export interface DefaultRateLimiterOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  qps?: number;
  burst?: number;
}

/** Per-key 5 ms → 1000 s exponential backoff, and 10 qps with a burst of 100 overall. */
export function defaultControllerRateLimiter<K>(clock: Clock, opts: DefaultRateLimiterOptions = {}): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ExponentialFailureRateLimiter<K>(opts.baseDelayMs ?? 5, opts.maxDelayMs ?? 1_000_000),
    new BucketRateLimiter<K>(clock, opts.qps ?? 10, opts.burst ?? 100),
  );
}
