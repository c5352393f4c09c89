/**
 * The reconcile's AbortSignal, carried with its asynchronous work. The {@link Controller} runs each
 * reconcile inside {@link runWithSignal}; every {@link KubeClient} request made from that reconcile — in
 * the reconcile itself, in a helper three calls deep, in an Event write it queued — carries the signal
 * without anyone passing it. A forgotten `signal` argument is the failure this prevents: one call that
 * ignores the abort is enough for a manager that lost its lease to keep writing.
 *
 * Clients of other systems (Qdrant, S3) can take the same signal from {@link reconcileSignal} as their
 * default, or the reconcile passes `ctx.signal` to them explicitly; an explicit signal is always combined
 * with the ambient one, never replaces it.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` with `signal` as the ambient reconcile signal of everything it starts. */
export function runWithSignal<T>(signal: AbortSignal, fn: () => T): T {
  return scope.run(signal, fn);
}

/** The signal of the reconcile this code runs for, if any. */
export function reconcileSignal(): AbortSignal | undefined {
  return scope.getStore();
}

/**
 * The signal a call should obey: `explicit` and the ambient reconcile signal, whichever aborts first.
 * Undefined when there is neither.
 */
export function effectiveSignal(explicit?: AbortSignal): AbortSignal | undefined {
  const ambient = scope.getStore();
  if (!ambient || ambient === explicit) return explicit;
  if (!explicit) return ambient;
  return AbortSignal.any([explicit, ambient]);
}
