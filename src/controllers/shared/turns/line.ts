/**
 * Whose turn it is on one Qdrant, as pure functions of the line: the work items (backups now; restores,
 * drills and rollout copies next) that run against that Qdrant or are ready to. One item runs at a time;
 * see turns.ts for why, and for how the line is found.
 *
 * Deterministic, so two reconciles (two workers, two kinds' controllers) agree without a lock: every
 * item in line has one place, by creation time, then kind, namespace and name, and an item may start only
 * when nothing in its line runs and nothing before it is ready to start. An item that waits for something
 * else (a missing Secret or reference) is not in line at all, so it holds up nobody, and it returns to
 * its place by creation time when that something appears.
 */

/** Where an item stands: running (its Job exists), or ready to start as soon as its turn comes. */
export type TurnState = "Running" | "Ready";

export interface TurnItem {
  /** The kind of work ("QdrantBackup", later "QdrantRestore", …): the same line for every kind. */
  kind: string;
  namespace: string;
  name: string;
  /** The QdrantConnection (in `namespace`) it works against: one of the line's, named in messages. */
  connection: string;
  /** metadata.creationTimestamp (RFC 3339); an unreadable one sorts last. */
  createdAt: string;
  state: TurnState;
}

function time(item: TurnItem): number {
  const t = Date.parse(item.createdAt);
  return Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
}

/** The line's order: older first; same second (two schedules on one cron), then kind, namespace, name. */
export function compareTurns(a: TurnItem, b: TurnItem): number {
  const ta = time(a);
  const tb = time(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  for (const k of ["kind", "namespace", "name"] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

function same(a: TurnItem, b: Pick<TurnItem, "kind" | "namespace" | "name">): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}

/**
 * The item `me` waits behind, or undefined when it may start: the nearest item before it in line that is
 * ready, else a running one. `me` itself is skipped, so it may be in `line` or not (an item coming back
 * from a wait for a Secret asks before it is in line again).
 *
 * Nearest, not first: a waiter names the one right before it, which stays the same while the head of a
 * long line moves, so a waiter's status (which names it) does not change each time another item starts
 * or leaves. Each item's status then changes once when it queues and once when its turn comes, instead
 * of every waiter's at every move of the head.
 */
export function itemAhead(me: Omit<TurnItem, "state" | "connection">, line: readonly TurnItem[]): TurnItem | undefined {
  const mine: TurnItem = { ...me, connection: "", state: "Ready" };
  let nearest: TurnItem | undefined;
  let running: TurnItem | undefined;
  for (const item of line) {
    if (same(item, me)) continue;
    if (item.state === "Running" && (running === undefined || compareTurns(item, running) < 0)) running = item;
    if (compareTurns(item, mine) < 0 && (nearest === undefined || compareTurns(item, nearest) > 0)) nearest = item;
  }
  return nearest ?? running;
}

/** The item whose turn comes next: the first of the line that is ready, when nothing runs; else none. */
export function nextInLine(line: readonly TurnItem[]): TurnItem | undefined {
  let first: TurnItem | undefined;
  for (const item of line) {
    if (item.state === "Running") return undefined;
    if (first === undefined || compareTurns(item, first) < 0) first = item;
  }
  return first;
}
