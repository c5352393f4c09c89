/**
 * One work item per Qdrant at a time, for every kind of work that snapshots, restores or copies on it
 * (backups now; restores, drills and rollout copies register their kinds next). Qdrant names a snapshot
 * `{collection}-{peer}-{second}`, so two pieces of work on one collection that start in the same second
 * would share a file on the peer and one would delete it under the other; snapshots and recoveries are
 * also heavy work for Qdrant, which is why Velero and CloudNativePG run them one after another too.
 *
 * The line of an item is every item of every registered kind whose QdrantConnection reaches the same
 * Qdrant (qdrant-identity.ts: connections whose names overlap, transitively, across namespaces); the
 * order and who may start are line.ts's pure decisions. Everything is an index lookup, so what one
 * decision or one event costs grows with the line, never with the number of objects in the cache:
 * - each kind's informer gets an index of its unfinished items by "namespace/connection";
 * - the connections' informer an index by Qdrant name, walked to find the connections of one Qdrant.
 *
 * Who is woken: an item's turn can only come when an item of its line stops running, or when the item
 * that was told it may start (the head) leaves the line without running (it found its Secret missing, it
 * was deleted). Such an event wakes the one item whose turn it may be (line.ts's nextInLine), not every
 * waiter; any other item leaving the line (a backup that fails before its turn, one of a long line's
 * waiters deleted) wakes nobody and costs no look at the line, so a burst of such events is flat in the
 * line's length; an item joining the line wakes nobody either (it can only make others wait longer).
 * Which items were told they may start is this process's memory: after a restart, or for a head deleted
 * before this process asked about it, the next in line learns of its turn at its own recheck. Waiters
 * recheck on their own interval, which also covers what no event signals: a connection's last check
 * splitting one Qdrant's line into two.
 *
 * Crash and race windows:
 * - an item's Job created, its status not yet saying so (a crash, a lost write): the kind's `started`
 *   looks at its Jobs cache, so the item counts as running for every decision made after that cache saw
 *   the Job;
 * - two items coming back from a wait for a Secret at once (they were out of line, and each decides
 *   before the other's Job reaches its Jobs cache): both may start. The window is one watch latency of
 *   the Jobs informer, and needs two items to return within it; a lock object per Qdrant would close it
 *   at the cost of writes for every item. The same holds for two items created within one watch
 *   latency of each other (each may decide before the other reaches its cache): seen twice in CI on
 *   the loaded 2-core machine, by e2e/backup-turns-per-qdrant.test.ts, whose two backups are created at
 *   once. A backup therefore asks again right before it creates its Job, after the checks that take
 *   round trips, which leaves only the informer's own latency; closing it for good is a lock per Qdrant
 *   (a Lease named by its identity), left to the faults issue.
 * - a connection whose last check is older than its spec (status.observedGeneration behind): its status
 *   is ignored, so only its spec's names count until it is checked again.
 */
import type { Controller } from "../../../runtime/controller.ts";
import type { Informer } from "../../../runtime/informer.ts";
import { stringKeyOf, type KubeObject } from "../../../runtime/resource.ts";
import type { QdrantConnectionSpec, QdrantConnectionStatus } from "../../../api/v1alpha1/qdrant-connection.ts";
import { compareTurns, itemAhead, nextInLine, type TurnItem, type TurnState } from "./line.ts";
import { qdrantNames } from "./qdrant-identity.ts";

/** The part of a QdrantConnection the turns read (its spec's address, its last check's peers). */
export interface ConnectionLike extends KubeObject {
  spec?: Partial<QdrantConnectionSpec>;
  status?: QdrantConnectionStatus;
}

/** Where an item of a kind stands: in line ("Running", "Ready"), or waiting for something else ("Away"). */
export type ItemState = TurnState | "Away";

/** What the turns need to know about one kind of work. Defined once per kind, as a constant. */
export interface TurnKind<T extends KubeObject> {
  /** The kind's name ("QdrantBackup"), shown in the messages of items of other kinds waiting behind it. */
  kind: string;
  /** The QdrantConnection (in the item's namespace) the item works against. */
  connectionOf(obj: T): string | undefined;
  /**
   * Where the item stands from its own object, or undefined when it is out of the picture for good
   * (finished, being deleted). Must depend on the object only: it feeds an index.
   */
  stateOf(obj: T): ItemState | undefined;
}

export interface RegisterOptions<T extends KubeObject> {
  /** True when the item's work has begun though its status may not say so yet (its Job is in the Jobs cache). */
  started?: (obj: T) => boolean;
}

/** Index of the connections' informer: each connection under every name of its Qdrant. */
export const QDRANT_NAMES_INDEX = "turns.qdrant-names";
/** Index of each kind's informer: its unfinished items under "namespace/connection". */
export const TURN_ITEMS_INDEX = "turns.items";

function currentStatus(c: ConnectionLike): ConnectionLike["status"] {
  const s = c.status;
  return s?.observedGeneration !== undefined && s.observedGeneration === c.metadata?.generation ? s : undefined;
}

function namesOf(c: ConnectionLike): string[] {
  return qdrantNames(c.metadata?.namespace ?? "", c.spec, currentStatus(c));
}

const byQdrantName = (c: ConnectionLike): readonly string[] => namesOf(c);

interface Registered {
  def: TurnKind<KubeObject>;
  informer: Informer<KubeObject>;
  started?: (obj: KubeObject) => boolean;
}

/** The index function of one kind: built once per kind definition, so sharing an informer shares it. */
const itemIndexes = new WeakMap<TurnKind<KubeObject>, (obj: KubeObject) => readonly string[]>();
function itemIndexOf(def: TurnKind<KubeObject>): (obj: KubeObject) => readonly string[] {
  let fn = itemIndexes.get(def);
  if (!fn) {
    fn = (obj) => {
      const connection = def.connectionOf(obj);
      return connection && def.stateOf(obj) !== undefined ? [`${obj.metadata?.namespace ?? ""}/${connection}`] : [];
    };
    itemIndexes.set(def, fn);
  }
  return fn;
}

function headId(kind: string, obj: KubeObject): string {
  return `${kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

export class Turns {
  readonly #connections: Informer<ConnectionLike>;
  readonly #kinds = new Map<string, Registered>();
  readonly #woken: Array<{ controller: Controller; kind: string }> = [];
  /** "kind/namespace/name" of the items `ahead` last told they may start. */
  readonly #heads = new Set<string>();

  constructor(connections: Informer<ConnectionLike>) {
    this.#connections = connections;
    connections.addIndex(QDRANT_NAMES_INDEX, byQdrantName);
  }

  /** Adds a kind of work and its informer to every line. */
  register<T extends KubeObject>(def: TurnKind<T>, informer: Informer<T>, opts: RegisterOptions<T> = {}): void {
    if (this.#kinds.has(def.kind)) throw new Error(`turns: kind ${def.kind} is registered already`);
    const d = def as unknown as TurnKind<KubeObject>;
    const inf = informer as unknown as Informer<KubeObject>;
    inf.addIndex(TURN_ITEMS_INDEX, itemIndexOf(d));
    const started = opts.started as ((obj: KubeObject) => boolean) | undefined;
    const registered: Registered = { def: d, informer: inf, ...(started ? { started } : {}) };
    this.#kinds.set(def.kind, registered);
    for (const w of this.#woken) this.#watch(w.controller, w.kind, registered);
  }

  /**
   * "namespace/name" of every QdrantConnection that reaches the same Qdrant as `namespace/connection`
   * (itself included, even when it does not exist yet).
   */
  connectionsOfQdrant(namespace: string, connection: string): string[] {
    const start = `${namespace}/${connection}`;
    const found = new Set([start]);
    const names = new Set<string>();
    const todo = [start];
    for (let key = todo.pop(); key !== undefined; key = todo.pop()) {
      const c = this.#connections.cache.get(key);
      for (const name of c ? namesOf(c) : []) {
        if (names.has(name)) continue;
        names.add(name);
        for (const other of this.#connections.cache.byIndex(QDRANT_NAMES_INDEX, name)) {
          const k = stringKeyOf(other);
          if (!found.has(k)) {
            found.add(k);
            todo.push(k);
          }
        }
      }
    }
    return [...found].sort();
  }

  /** The line of the Qdrant `namespace/connection` reaches: its items that run or are ready, in order. */
  lineOf(namespace: string, connection: string): TurnItem[] {
    const line: TurnItem[] = [];
    for (const key of this.connectionsOfQdrant(namespace, connection)) {
      for (const kind of this.#kinds.values()) {
        for (const obj of kind.informer.cache.byIndex(TURN_ITEMS_INDEX, key)) {
          const item = this.#item(kind, obj);
          if (item) line.push(item);
        }
      }
    }
    return line.sort(compareTurns);
  }

  /** The item `obj` (of kind `kind`) must wait behind, or undefined when it may start now. */
  ahead<T extends KubeObject>(kind: string, obj: T): TurnItem | undefined {
    const { def } = this.#kind(kind);
    const connection = def.connectionOf(obj);
    if (!connection) return undefined;
    const namespace = obj.metadata?.namespace ?? "";
    const me = { kind, namespace, name: obj.metadata?.name ?? "", createdAt: obj.metadata?.creationTimestamp ?? "" };
    const ahead = itemAhead(me, this.lineOf(namespace, connection));
    const id = headId(kind, obj);
    if (ahead) this.#heads.delete(id);
    else this.#heads.add(id);
    return ahead;
  }

  /**
   * Makes `controller` (the controller of `kind`) learn when one of its items' turn may have come: an
   * item of any registered kind that stops running or leaves the line wakes the next in line, if it is
   * of `kind`. Kinds registered later are watched too (all before the manager starts).
   */
  wake(controller: Controller, kind: string): void {
    this.#woken.push({ controller, kind });
    for (const registered of this.#kinds.values()) this.#watch(controller, kind, registered);
  }

  #watch(controller: Controller, kind: string, { def, informer }: Registered): void {
    controller.watch(informer, (enqueue) => {
      const wakeNext = (obj: KubeObject) => {
        const connection = def.connectionOf(obj);
        if (!connection) return;
        const next = nextInLine(this.lineOf(obj.metadata?.namespace ?? "", connection));
        if (next?.kind === kind) enqueue(`${next.namespace}/${next.name}`);
      };
      const changed = (old: KubeObject, now: ItemState | undefined, obj: KubeObject) => {
        const was = def.stateOf(old);
        const id = headId(def.kind, obj);
        const stopped = was === "Running" && now !== "Running";
        const headLeft = was === "Ready" && (now === "Away" || now === undefined) && this.#heads.has(id);
        if (!stopped && !headLeft) return;
        // Forgotten once every controller's handler has seen this event.
        queueMicrotask(() => this.#heads.delete(id));
        wakeNext(obj);
      };
      return {
        onUpdate: (old, obj) => changed(old, def.stateOf(obj), obj),
        onDelete: (obj) => changed(obj, undefined, obj),
      };
    });
  }

  #kind(kind: string): Registered {
    const k = this.#kinds.get(kind);
    if (!k) throw new Error(`turns: kind ${kind} is not registered`);
    return k;
  }

  #item({ def, started }: Registered, obj: KubeObject): TurnItem | undefined {
    let state = def.stateOf(obj);
    if (state === undefined) return undefined;
    if (state !== "Running" && started?.(obj)) state = "Running";
    if (state === "Away") return undefined;
    return {
      kind: def.kind,
      namespace: obj.metadata?.namespace ?? "",
      name: obj.metadata?.name ?? "",
      connection: def.connectionOf(obj) ?? "",
      createdAt: obj.metadata?.creationTimestamp ?? "",
      state,
    };
  }
}
