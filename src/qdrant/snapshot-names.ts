/**
 * Qdrant's names for the snapshots it creates, read back: which scope and peer a name is of, and the UTC
 * time in it. Pure. What the backup Job's intent markers are resolved with (src/backup/store/resolve-intent.ts):
 * a run killed between a create and its marker left a snapshot only its name and time can point to.
 *
 * Names (../shared/qdrant/API-NOTES.md §3 and §4, test/emulator/README.md):
 * - a collection's: `{collection}-{peerId}-{%Y-%m-%d-%H-%M-%S}.snapshot`; newer sources add `-{%3f}`
 *   milliseconds, and a numeric suffix when two are taken in one millisecond;
 * - the full storage's: `full-snapshot-{%Y-%m-%d-%H-%M-%S}.snapshot` (no peer: each peer lists its own),
 *   with the same optional milliseconds and suffix.
 * Anything else (an uploaded file, a name a person chose) is never a candidate.
 */
import type { SnapshotScope } from "./snapshots.ts";

/** Allowed clock skew between the Job's node (or the manager's) and Qdrant's, each way. */
export const INTENT_SKEW_MS = 30_000;

const STAMP = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?:-(\d{3}))?(?:-(\d{1,9}))?\.snapshot$/;

/** The UTC time a Qdrant-made snapshot name of `scope` on `peerId` carries; undefined for any other name. */
export function snapshotNameTime(name: string, scope: SnapshotScope, peerId: string): Date | undefined {
  const head = "fullStorage" in scope ? "full-snapshot-" : `${scope.collection}-${peerId}-`;
  if (!name.startsWith(head)) return undefined;
  const m = STAMP.exec(name.slice(head.length));
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7]);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  // Date.UTC rolls over (month 13, second 61) and maps years 0-99 to 19xx: such a stamp is not Qdrant's.
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || t.getUTCHours() !== h || t.getUTCMinutes() !== mi || t.getUTCSeconds() !== s) return undefined;
  return t;
}

export interface IntentWindow {
  scope: SnapshotScope;
  peerId: string;
  /** Taken just before the create request was sent. */
  notBefore: Date;
  /** The resolver's own now: the run that wrote the intent is dead by then. */
  until: Date;
}

/**
 * The snapshots listed on the intent's peer that the killed create may have made: Qdrant's name for that
 * scope and peer, its time within [notBefore − skew, until + skew] (the name's time is cut to the second,
 * which the skew covers too), and not one a marker of this backup names (those are resolved by their
 * markers). Sorted by name.
 */
export function intentCandidates(w: IntentWindow, listed: readonly string[], marked: ReadonlySet<string>): string[] {
  const from = w.notBefore.getTime() - INTENT_SKEW_MS;
  const to = w.until.getTime() + INTENT_SKEW_MS;
  return [...new Set(listed)]
    .filter((name) => {
      if (marked.has(name)) return false;
      const t = snapshotNameTime(name, w.scope, w.peerId)?.getTime();
      return t !== undefined && t >= from && t <= to;
    })
    .sort();
}
