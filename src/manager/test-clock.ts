/**
 * A hidden, test-only clock for the manager process: with QDRANT_OPERATOR_CLOCK_OFFSET_MS set, the
 * controllers' clock (OperatorContext.clock) runs that many milliseconds ahead of (or, negative, behind)
 * the wall clock. End-to-end tests use it to put a cron tick a few seconds after the manager starts
 * instead of waiting for a real minute boundary. Timers are relative, so only now() moves; leader
 * election, informers and Events keep the real clock. Not in --help: it is not a user setting.
 */
import { realClock, type Clock } from "../runtime/clock.ts";

export const CLOCK_OFFSET_ENV = "QDRANT_OPERATOR_CLOCK_OFFSET_MS";

export function offsetClock(base: Clock, offsetMs: number): Clock {
  return { now: () => new Date(base.now().getTime() + offsetMs), setTimeout: (fn, ms) => base.setTimeout(fn, ms) };
}

/** The real clock, or an offset one when the variable holds an integer (anything else is refused). */
export function clockFromEnv(env: NodeJS.ProcessEnv): Clock {
  const raw = env[CLOCK_OFFSET_ENV];
  if (raw === undefined || raw === "") return realClock;
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms)) throw new Error(`${CLOCK_OFFSET_ENV}=${JSON.stringify(raw)}: expected an integer number of milliseconds`);
  return ms === 0 ? realClock : offsetClock(realClock, ms);
}
