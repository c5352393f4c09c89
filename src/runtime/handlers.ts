/**
 * Event handlers that turn informer events into work-queue keys, and predicates that drop events a
 * controller does not need. A handler only computes keys; what changed is for the reconcile to find out.
 */
import type { ObjectCache } from "./cache.ts";
import type { EventHandler } from "./informer.ts";
import { groupOf, keyOf, keyToString, type KubeObject, type ObjectKey } from "./resource.ts";

export type Enqueue = (key: string) => void;

/** Decides whether an event is worth a reconcile. `old` is absent for adds and deletes. */
export type Predicate<T extends KubeObject> = (obj: T, old?: T) => boolean;

/** Every event of an object enqueues that object's own key: the "For" of controller-runtime. */
export function enqueueObject<T extends KubeObject>(enqueue: Enqueue, predicate?: Predicate<T>): EventHandler<T> {
  return mapObjects<T>(enqueue, (obj) => [keyOf(obj)], predicate);
}

/**
 * Events of an owned object (a Job) enqueue its owner's key (the QdrantBackup that created it): the "Owns"
 * of controller-runtime. Only owner references of the given group and kind count, by default only the
 * controller reference. On an update the old owners are enqueued too, in case the reference changed.
 */
export function enqueueOwner<T extends KubeObject>(enqueue: Enqueue, owner: { group: string; kind: string }, opts: { controllerOnly?: boolean; predicate?: Predicate<T> } = {}): EventHandler<T> {
  const controllerOnly = opts.controllerOnly ?? true;
  return mapObjects<T>(
    enqueue,
    (obj) =>
      (obj.metadata?.ownerReferences ?? [])
        .filter((r) => r.kind === owner.kind && groupOf(r.apiVersion) === owner.group && (!controllerOnly || r.controller === true))
        // Owner references never cross namespaces; a cluster-scoped owner has namespace "".
        .map((r) => ({ namespace: obj.metadata?.namespace ?? "", name: r.name })),
    opts.predicate,
  );
}

/** Events enqueue whatever keys `map` returns (e.g. every schedule that references a changed Secret). */
export function mapObjects<T extends KubeObject>(enqueue: Enqueue, map: (obj: T) => ObjectKey[], predicate?: Predicate<T>): EventHandler<T> {
  const push = (obj: T) => {
    for (const key of map(obj)) enqueue(keyToString(key));
  };
  return {
    onAdd: (obj) => {
      if (!predicate || predicate(obj)) push(obj);
    },
    onUpdate: (old, obj) => {
      if (predicate && !predicate(obj, old)) return;
      push(old);
      push(obj);
    },
    onDelete: (obj) => {
      if (!predicate || predicate(obj)) push(obj);
    },
  };
}

/**
 * Events enqueue the objects of `cache` found under the index values `values` returns (e.g. a changed
 * QdrantConnection → "prod/qdrant" → the backups that name it): a lookup, never a scan of the cache.
 */
export function enqueueIndexed<T extends KubeObject, U extends KubeObject>(
  enqueue: Enqueue,
  cache: ObjectCache<U>,
  index: string,
  values: (obj: T) => readonly string[],
  predicate?: Predicate<T>,
): EventHandler<T> {
  return mapObjects<T>(enqueue, (obj) => values(obj).flatMap((v) => cache.byIndex(index, v).map((o) => keyOf(o))), predicate);
}

/**
 * Passes adds, deletes, and updates that changed metadata.generation (the spec) or the deletion timestamp.
 * Drops the update a controller's own status write causes, for kinds with a status subresource.
 */
export const generationChanged: Predicate<KubeObject> = (obj, old) =>
  old === undefined || old.metadata?.generation !== obj.metadata?.generation || old.metadata?.deletionTimestamp !== obj.metadata?.deletionTimestamp;

/** Passes adds, deletes, and updates that changed the resourceVersion (drops periodic resync repeats). */
export const resourceVersionChanged: Predicate<KubeObject> = (obj, old) => old === undefined || old.metadata?.resourceVersion !== obj.metadata?.resourceVersion;
