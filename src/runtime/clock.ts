/**
 * Time as a dependency. Everything in the runtime that waits (work-queue delays, rate limits, informer
 * backoff, lease renewal, event aggregation windows) asks a Clock instead of the global timers, so unit tests
 * drive time with {@link FakeClock.advance} instead of sleeping, and a test of a 1000 s backoff cap takes
 * microseconds.
 */

/** Cancels a pending timer; calling it after the timer fired, or twice, does nothing. */
export type Cancel = () => void;

export interface Clock {
  now(): Date;
  /** Runs `fn` once after `ms` milliseconds (0 or negative: on a later turn, never synchronously). */
  setTimeout(fn: () => void, ms: number): Cancel;
}

/** Node's timers take at most 2^31-1 ms (~24.8 days); a longer delay fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The wall clock. Timers are unref'd: a pending requeue or retry alone never keeps the process alive.
 * Delays beyond MAX_TIMER_MS are chained in steps, so "wake me at the next yearly tick" waits a year
 * rather than turning into a loop.
 */
export const realClock: Clock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    let t: ReturnType<typeof setTimeout>;
    const arm = (left: number) => {
      t = setTimeout(left > MAX_TIMER_MS ? () => arm(left - MAX_TIMER_MS) : fn, Math.min(MAX_TIMER_MS, Math.max(0, left)));
      t.unref();
    };
    arm(ms);
    return () => clearTimeout(t);
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told. Timers due at the same instant fire in the order they were set;
 * a timer set by a firing callback for a time within the advanced window fires in the same advance.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: FakeTimer[] = [];

  constructor(start: Date | number = Date.UTC(2030, 0, 1)) {
    this.#now = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): Cancel {
    const timer: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      const i = this.#timers.indexOf(timer);
      if (i >= 0) this.#timers.splice(i, 1);
    };
  }

  /** Number of timers not yet fired or cancelled. */
  pending(): number {
    return this.#timers.length;
  }

  /** Milliseconds until the next timer is due, or undefined when none is pending. */
  nextTimerIn(): number | undefined {
    const next = this.#next();
    return next ? next.at - this.#now : undefined;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    while (this.#fireNext(target));
    this.#now = target;
  }

  /**
   * Like {@link advance}, but lets promise continuations run after each timer, so code that awaits a timer
   * and then sets the next one (a retry loop) makes progress within one call.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#now + ms;
    do {
      await flushMicrotasks();
    } while (this.#fireNext(target));
    this.#now = target;
    await flushMicrotasks();
  }

  /** Fires the earliest timer due by `target`, moving time to it; false when none is due. */
  #fireNext(target: number): boolean {
    const next = this.#next();
    if (!next || next.at > target) return false;
    this.#timers.splice(this.#timers.indexOf(next), 1);
    this.#now = Math.max(this.#now, next.at);
    next.fn();
    return true;
  }

  #next(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}

/**
 * Lets every already-queued promise continuation run. A macrotask turn (setImmediate) drains the whole
 * microtask queue, including continuations queued by continuations.
 */
export async function flushMicrotasks(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
}

/**
 * Waits `ms` on `clock`. Resolves true when the time passed, false as soon as `signal` aborts: loops that
 * retry "until stopped" need no try/catch around every wait.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal?.aborted) {
      resolve(false);
      return;
    }
    const onAbort = () => {
      cancel();
      resolve(false);
    };
    const cancel = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `ms` scaled by a random factor in [1, 1 + factor): spreads retries of many clients apart. */
export function jitter(ms: number, factor: number, random: () => number = Math.random): number {
  return ms * (1 + factor * random());
}
