/**
 * Restores take turns per Qdrant with backups and every other kind of work on it (src/controllers/shared/
 * turns/: why, the line's order, the crash windows): what the turns need to know about a QdrantRestore,
 * and the message of one waiting.
 *
 * In line: a restore with no status yet (new, or its Job created and the status write lost), one waiting
 * only for its turn, and one whose Job runs. Away (not holding the line): one waiting for something else
 * (a missing Secret, a backup, a target in the way) or for its next attempt's backoff. Out: Succeeded,
 * Watching (IfMissing with its target there, a drill between ticks), Failed, or being deleted; such a
 * restore asks for its turn again when it needs one, and takes its place by creation time.
 */
import type { TurnItem } from "../shared/turns/line.ts";
import type { ItemState, TurnKind } from "../shared/turns/turns.ts";
import { WAITING_FOR_TURN } from "./status.ts";
import type { RestoreObject } from "./types.ts";

export const RESTORE_KIND = "QdrantRestore";

export const RESTORE_TURNS: TurnKind<RestoreObject> = {
  kind: RESTORE_KIND,
  connectionOf: (r) => r.spec?.target?.connectionRef?.name,
  stateOf(r): ItemState | undefined {
    if (r.metadata?.deletionTimestamp !== undefined) return undefined;
    const phase = r.status?.phase;
    if (phase === "Succeeded" || phase === "Failed" || phase === "Watching") return undefined;
    const ready = r.status?.conditions?.find((c) => c.type === "Ready");
    if (phase === "Running") return ready?.reason === "Running" ? "Running" : ready?.reason === WAITING_FOR_TURN ? "Ready" : "Away";
    if (ready === undefined || ready.reason === WAITING_FOR_TURN) return "Ready";
    return "Away";
  },
};

/**
 * The WaitingForTurn message of `obj` behind `ahead`: it names the item right before it in line, not
 * whether that one runs yet, so it stays the same until its own turn comes (see line.ts's itemAhead).
 */
export function waitingMessage(obj: RestoreObject, ahead: TurnItem): string {
  const namespace = obj.metadata?.namespace ?? "";
  const connection = obj.spec.target.connectionRef.name;
  const who =
    ahead.namespace === namespace && ahead.connection === connection
      ? `${ahead.kind} ${ahead.name} of the same QdrantConnection ${connection}`
      : `${ahead.kind} ${ahead.namespace === namespace ? "" : `${ahead.namespace}/`}${ahead.name} (QdrantConnection ${ahead.namespace}/${ahead.connection}, the same Qdrant as ${connection})`;
  return `${who} is ahead in line; one backup or restore per Qdrant runs at a time, this restore starts when its turn comes`;
}
