/**
 * The time of a periodic check (a QdrantConnection's `lastCheckTime`, a location's `lastValidationTime`)
 * as the status records it: the time of the check that last changed what the status says. A check that
 * finds everything as recorded keeps the recorded time, so its status diff is empty and nothing is
 * written: no status write per object per check interval, which at one connection per namespace was the
 * whole of the manager's steady-state apiserver traffic (a PATCH per namespace a minute), and no watch
 * event making every informer of the kind copy the object. When the last check ran is a metric instead
 * (a gauge set at every check), which is where a heartbeat belongs.
 */
import { mergePatchBetween } from "../../runtime/merge-patch.ts";

/** `next` with `field` set to `now` when anything else differs from `current`, else to `current`'s time. */
export function stampIfChanged<S extends object, K extends keyof S>(current: S | undefined, next: S, field: K, now: S[K]): S {
  const { [field]: recorded, ...was } = (current ?? {}) as S;
  const { [field]: _ignored, ...is } = next;
  const unchanged = recorded !== undefined && mergePatchBetween(was, is) === undefined;
  return { ...next, [field]: unchanged ? recorded : now };
}
