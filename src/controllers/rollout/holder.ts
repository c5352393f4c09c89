/**
 * One rollout per alias per Qdrant: which rollout holds spec.alias, so that two never interleave their
 * switches (the second would switch the alias away from the first's green, or roll it back to a blue that is
 * not its own).
 *
 * The holder, among the rollouts with the same alias on the same Qdrant, is the one that has begun
 * (Preparing, Validating, AwaitingPromotion, or Promoted with its analysis window still running and not
 * ended: neither passed, nor failed with switchBackOnFailure false) before one
 * that has not (no phase, Pending), then the oldest by creationTimestamp, then by namespace/name. Begun
 * first: an older rollout that comes back from Failed (a new generation) must not take the alias from a
 * younger one in the middle of its gates. Finished rollouts (Promoted with nothing running, RolledBack,
 * Failed, Aborted) and ones being deleted hold nothing.
 *
 * "Same Qdrant" is the turns' notion (shared/turns/qdrant-identity.ts): the two connections' qdrantNames
 * overlap; when a connection is not in the cache, only the same namespace and connection name count.
 *
 * Crash window: two rollouts that both began before either saw the other's status (a few ms apart, after
 * a manager start) are ranked by age on the next reconcile and the younger waits from then on; it has
 * made green at most, never a switch, since a switch is decided after a reconcile that sees the holder.
 */
import { qdrantNames } from "../shared/turns/qdrant-identity.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";
import { analysisEndMs } from "./spec.ts";
import type { RolloutObject } from "./types.ts";

/** The rollouts index by alias name (cluster-wide: two namespaces' connections may reach one Qdrant). */
export const BY_ALIAS = "rollouts.controller.alias";
export const byAlias = (r: RolloutObject): string[] => (r.spec?.alias ? [r.spec.alias] : []);

const BEGUN = new Set(["Preparing", "Validating", "AwaitingPromotion"]);

/** "begun": holds the alias against younger ones; "waiting": holds it only when it is the oldest; undefined: holds nothing. */
export function holdState(r: RolloutObject, now: Date): "begun" | "waiting" | undefined {
  if (r.metadata?.deletionTimestamp) return undefined;
  const phase = r.status?.phase;
  if (phase === undefined || phase === "Pending") return "waiting";
  if (BEGUN.has(phase)) return "begun";
  if (phase === "Promoted") {
    const end = analysisEndMs(r.spec, r.status?.promotedAt);
    // Holds while its analysis runs, and after it failed only while a switch-back is to come (switchBackOnFailure,
    // default true); failed with switchBackOnFailure false, the alias stays on green and is released.
    const passed = r.status?.analysis?.passed;
    const holds = passed === undefined || (passed === false && r.spec?.analysis?.switchBackOnFailure !== false);
    return end !== undefined && now.getTime() < end && holds ? "begun" : undefined;
  }
  return undefined;
}

const created = (r: RolloutObject) => {
  const t = Date.parse(r.metadata?.creationTimestamp ?? "");
  return Number.isFinite(t) ? t : Number.MAX_SAFE_INTEGER;
};
const idOf = (r: RolloutObject) => `${r.metadata?.namespace ?? ""}/${r.metadata?.name ?? ""}`;

/** Orders holders first: begun before waiting, then older, then by namespace/name. */
function compare(now: Date) {
  return (a: RolloutObject, b: RolloutObject): number => {
    const ra = holdState(a, now) === "begun" ? 0 : 1;
    const rb = holdState(b, now) === "begun" ? 0 : 1;
    if (ra !== rb) return ra - rb;
    const ca = created(a);
    const cb = created(b);
    if (ca !== cb) return ca - cb;
    const ia = idOf(a);
    const ib = idOf(b);
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  };
}

/**
 * The rollout holding `me`'s alias when it is not `me` (pure). `sameAlias`: the rollouts with me's alias
 * (the BY_ALIAS lookup, me among them or not); `sameQdrant(a, b)`: whether two rollouts' connections reach one Qdrant.
 */
export function holderOf(me: RolloutObject, sameAlias: readonly RolloutObject[], sameQdrant: (a: RolloutObject, b: RolloutObject) => boolean, now: Date): { namespace: string; name: string } | null {
  const mine = idOf(me);
  const contenders = sameAlias.filter((o) => idOf(o) !== mine && o.spec?.alias === me.spec.alias && holdState(o, now) !== undefined && sameQdrant(me, o));
  if (contenders.length === 0) return null;
  const first = [...contenders, me].sort(compare(now))[0];
  if (!first || idOf(first) === mine) return null;
  return { namespace: first.metadata?.namespace ?? "", name: first.metadata?.name ?? "" };
}

/** sameQdrant over a connection lookup: qdrantNames overlap, or (a connection unknown) the same namespace and connection. */
export function sameQdrantVia(connection: (namespace: string, name: string) => QdrantConnectionObject | undefined): (a: RolloutObject, b: RolloutObject) => boolean {
  const names = (r: RolloutObject): string[] | undefined => {
    const ns = r.metadata?.namespace ?? "";
    const c = connection(ns, r.spec?.connectionRef?.name ?? "");
    return c ? qdrantNames(ns, c.spec, c.status) : undefined;
  };
  return (a, b) => {
    if (a.metadata?.namespace === b.metadata?.namespace && a.spec?.connectionRef?.name === b.spec?.connectionRef?.name) return true;
    const na = names(a);
    const nb = names(b);
    if (!na || !nb) return false;
    return na.some((n) => nb.includes(n));
  };
}

/** The WaitingForAlias message naming the holder. */
export function waitingForAliasMessage(alias: string, holder: { namespace: string; name: string }): string {
  return `CollectionRollout ${holder.namespace}/${holder.name} is rolling out alias ${alias} on the same Qdrant; this rollout starts when it is Promoted, RolledBack, Failed or Aborted`;
}
