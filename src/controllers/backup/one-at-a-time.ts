/**
 * Backups take turns per Qdrant (src/controllers/shared/turns/: why, the line's order, the crash
 * windows): this is what the turns need to know about a QdrantBackup, and the message of one waiting.
 *
 * In line: a backup with no status yet (new, or its Job created and the status write lost), one waiting
 * only for its turn, and a running one. Away (not holding the line): a backup waiting for something else
 * (a missing Secret or reference). Out: finished, or being deleted.
 */
import type { ItemState, TurnKind } from "../shared/turns/turns.ts";
import type { TurnItem } from "../shared/turns/line.ts";
import { isTerminal } from "./status.ts";
import type { BackupObject } from "./types.ts";

/** The Ready reason of a backup that is ready to start as soon as its turn comes. */
export const WAITING_FOR_TURN = "WaitingForBackup";

export const BACKUP_KIND = "QdrantBackup";

export const BACKUP_TURNS: TurnKind<BackupObject> = {
  kind: BACKUP_KIND,
  connectionOf: (b) => b.spec?.connectionRef?.name,
  stateOf(b): ItemState | undefined {
    if (b.metadata?.deletionTimestamp !== undefined || isTerminal(b.status)) return undefined;
    if (b.status?.phase === "Running") return "Running";
    const ready = b.status?.conditions?.find((c) => c.type === "Ready");
    // No status yet (a new backup, or its Job just created), or waiting only for its turn.
    if (ready === undefined || ready.reason === WAITING_FOR_TURN || ready.reason === "Running") return "Ready";
    // Invalid specs never get this far, but an InvalidSpec condition is not a wait for a turn either.
    return "Away";
  },
};

/**
 * The WaitingForBackup message of `obj` behind `ahead`. It names the item right before it in line, and
 * not whether that one runs yet, so it stays the same until `obj`'s own turn comes: a waiting backup is
 * written once when it queues, not at every move of the line (see line.ts's itemAhead).
 */
export function waitingMessage(obj: BackupObject, ahead: TurnItem): string {
  const namespace = obj.metadata?.namespace ?? "";
  const connection = obj.spec.connectionRef.name;
  const who =
    ahead.namespace === namespace && ahead.connection === connection
      ? `${ahead.kind} ${ahead.name} of the same QdrantConnection ${connection}`
      : `${ahead.kind} ${ahead.namespace === namespace ? "" : `${ahead.namespace}/`}${ahead.name} (QdrantConnection ${ahead.namespace}/${ahead.connection}, the same Qdrant as ${connection})`;
  return `${who} is ahead in line; one backup per Qdrant runs at a time, this one starts when its turn comes`;
}
