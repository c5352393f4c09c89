/**
 * The informer's local copy of one resource type, keyed by "namespace/name". Reconcilers read from it
 * instead of the apiserver; it may lag the apiserver by the watch latency, which is why a write based on
 * a cached object carries its resourceVersion and a 409 means "re-read and try again".
 *
 * Named indexes (client-go's Indexers): an index function maps an object to the values it is found under
 * ("prod/qdrant" for "backups of connection qdrant in prod"); {@link ObjectCache.byIndex} returns the
 * objects under one value without looking at any other object, so a lookup costs what it returns, not
 * what the cache holds. Every index is kept up to date on each add, update, delete and relist (one call
 * of each index function per changed object). The namespace index is built in, and `list(namespace)` uses
 * it. An index function sees only the object itself: it must be pure and cheap, and what it returns may
 * change only when the object does.
 *
 * Objects handed out are the cached objects themselves: treat them as read-only (copy with
 * structuredClone before changing one).
 */
import { keyToString, stringKeyOf, type KubeObject, type ObjectKey } from "./resource.ts";

/** What a replace or a single change did to the store; the informer turns these into handler calls. */
export type Delta<T> = { type: "added"; obj: T } | { type: "updated"; old: T; obj: T } | { type: "deleted"; obj: T };

/** The values an object is indexed under (none: it is not in that index). */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** The built-in index: every object under its namespace ("" for cluster-scoped ones). */
export const NAMESPACE_INDEX = "namespace";

const byNamespace: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ""];

interface Index<T> {
  /** Method syntax: an ObjectCache<Sub> stays assignable to ObjectCache<KubeObject> (a shared informer). */
  fn(obj: T): readonly string[];
  /** value → keys of the objects under it. */
  entries: Map<string, Set<string>>;
}

export class ObjectCache<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexes = new Map<string, Index<T>>();

  constructor() {
    this.addIndex(NAMESPACE_INDEX, byNamespace);
  }

  /**
   * Adds a named index, built at once over what is cached. Two controllers may share an informer and ask
   * for the same index: adding the same function under the same name again is a no-op, a different
   * function under a taken name is a programming error.
   */
  addIndex(name: string, fn: IndexFunc<T>): void {
    const existing = this.#indexes.get(name);
    if (existing) {
      if (existing.fn !== fn) throw new Error(`the cache already has an index named ${name} with another function`);
      return;
    }
    const index: Index<T> = { fn, entries: new Map() };
    this.#indexes.set(name, index);
    for (const [key, obj] of this.#items) this.#insert(index, key, fn(obj));
  }

  hasIndex(name: string): boolean {
    return this.#indexes.has(name);
  }

  /** The objects indexed under `value` by the index `name`, in no particular order. */
  byIndex(name: string, value: string): T[] {
    const keys = this.#index(name).entries.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** How many objects are indexed under `value`, without building the list. */
  countByIndex(name: string, value: string): number {
    return this.#index(name).entries.get(value)?.size ?? 0;
  }

  /** The values of index `name` that have at least one object. */
  indexValues(name: string): string[] {
    return [...this.#index(name).entries.keys()];
  }

  get(key: ObjectKey | string): T | undefined {
    return this.#items.get(typeof key === "string" ? key : keyToString(key));
  }

  /** Every cached object, or those of one namespace (through the namespace index), optionally filtered. */
  list(namespace?: string, filter?: (obj: T) => boolean): T[] {
    const from = namespace === undefined ? this.#items.values() : this.byIndex(NAMESPACE_INDEX, namespace);
    const out: T[] = [];
    for (const obj of from) if (!filter || filter(obj)) out.push(obj);
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
    this.#set(key, obj, old);
    return old ? { type: "updated", old, obj } : { type: "added", obj };
  }

  /** Removes one object (a watch DELETED event); the delta carries the object's last state. */
  remove(obj: T): Delta<T> | undefined {
    const key = stringKeyOf(obj);
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#delete(key, old);
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
      this.#set(key, obj, old);
      if (!old) deltas.push({ type: "added", obj });
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) deltas.push({ type: "updated", old, obj });
    }
    const candidates = scope === undefined ? [...this.#items] : this.byIndex(NAMESPACE_INDEX, scope).map((o) => [stringKeyOf(o), o] as const);
    for (const [key, old] of candidates) {
      if (seen.has(key)) continue;
      this.#delete(key, old);
      deltas.push({ type: "deleted", obj: old });
    }
    return deltas;
  }

  #index(name: string): Index<T> {
    const index = this.#indexes.get(name);
    if (!index) throw new Error(`the cache has no index named ${name}`);
    return index;
  }

  #set(key: string, obj: T, old: T | undefined): void {
    this.#items.set(key, obj);
    for (const index of this.#indexes.values()) {
      const before = old ? index.fn(old) : [];
      const after = index.fn(obj);
      if (before.length === after.length && before.every((v, i) => v === after[i])) continue;
      this.#remove(index, key, before);
      this.#insert(index, key, after);
    }
  }

  #delete(key: string, old: T): void {
    this.#items.delete(key);
    for (const index of this.#indexes.values()) this.#remove(index, key, index.fn(old));
  }

  #insert(index: Index<T>, key: string, values: readonly string[]): void {
    for (const v of values) {
      let keys = index.entries.get(v);
      if (!keys) index.entries.set(v, (keys = new Set()));
      keys.add(key);
    }
  }

  #remove(index: Index<T>, key: string, values: readonly string[]): void {
    for (const v of values) {
      const keys = index.entries.get(v);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) index.entries.delete(v);
    }
  }
}
