/**
 * The informer's local copy of one resource type, keyed by "namespace/name". Reconcilers read from it
 * instead of the apiserver; it may lag the apiserver by the watch latency, which is why a write based on
 * a cached object carries its resourceVersion and a 409 means "re-read and try again".
 *
 * Objects handed out are the cached objects themselves: treat them as read-only (copy with
 * structuredClone before changing one).
 */
import { keyToString, stringKeyOf, type KubeObject, type ObjectKey } from "./resource.ts";

/** What a replace or a single change did to the store; the informer turns these into handler calls. */
export type Delta<T> = { type: "added"; obj: T } | { type: "updated"; old: T; obj: T } | { type: "deleted"; obj: T };

export class ObjectCache<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();

  get(key: ObjectKey | string): T | undefined {
    return this.#items.get(typeof key === "string" ? key : keyToString(key));
  }

  /** Every cached object, or those of one namespace, optionally filtered. */
  list(namespace?: string, filter?: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const obj of this.#items.values()) {
      if (namespace !== undefined && (obj.metadata?.namespace ?? "") !== namespace) continue;
      if (filter && !filter(obj)) continue;
      out.push(obj);
    }
    return out;
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  size(): number {
    return this.#items.size;
  }

  /** Adds or replaces one object (a watch ADDED/MODIFIED event). */
  upsert(obj: T): Delta<T> {
    const key = stringKeyOf(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    return old ? { type: "updated", old, obj } : { type: "added", obj };
  }

  /** Removes one object (a watch DELETED event); the delta carries the object's last state. */
  remove(obj: T): Delta<T> | undefined {
    const key = stringKeyOf(obj);
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#items.delete(key);
    return { type: "deleted", obj };
  }

  /**
   * Makes the objects in `scope` exactly `objects` (a relist): adds new ones, updates those whose
   * resourceVersion changed, and deletes the ones that vanished while nobody was watching. `scope` is
   * the namespace the list covered, or undefined for all namespaces; objects outside it are untouched.
   */
  replace(objects: T[], scope: string | undefined): Delta<T>[] {
    const deltas: Delta<T>[] = [];
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = stringKeyOf(obj);
      seen.add(key);
      const old = this.#items.get(key);
      this.#items.set(key, obj);
      if (!old) deltas.push({ type: "added", obj });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) deltas.push({ type: "updated", old, obj });
    }
    for (const [key, old] of this.#items) {
      if (seen.has(key)) continue;
      if (scope !== undefined && (old.metadata?.namespace ?? "") !== scope) continue;
      this.#items.delete(key);
      deltas.push({ type: "deleted", obj: old });
    }
    return deltas;
  }
}
