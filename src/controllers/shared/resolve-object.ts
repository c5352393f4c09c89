/**
 * What the reference resolvers (resolve-connection.ts, resolve-location.ts) share: finding the object a
 * reference names (in the manager's informer cache when it has one, else by a GET), and how their
 * messages name a field.
 */
import { isNotFound } from "../../runtime/errors.ts";
import type { KubeObject, ResourceType } from "../../runtime/resource.ts";
import type { OperatorContext } from "./context.ts";

/** The part of an informer's cache a lookup reads. */
export interface ObjectLookup<T extends KubeObject> {
  get(key: { namespace: string; name: string }): T | undefined;
}

/**
 * The referenced object, or undefined when it does not exist. With `cache`, a miss is a miss (the cache
 * is the controller's view, and the watch wakes it when the object appears); without one, the apiserver
 * is asked (a controller that does not watch this kind).
 */
export async function findReferenced<T extends KubeObject>(ctx: OperatorContext, rt: ResourceType, namespace: string, name: string, cache?: ObjectLookup<T>): Promise<T | undefined> {
  if (cache) return cache.get({ namespace, name });
  try {
    return await ctx.client.get<T>(rt, { namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export interface ResolveOptions {
  /** True for the referenced object's own controller: fields are named without the object's kind and name. */
  self?: boolean;
}

/**
 * What a message puts before a field of `obj`: nothing for its own conditions (`spec.apiKeySecretRef.name:
 * …`), its kind and name for an object that refers to it (`QdrantConnection qdrant spec.apiKeySecretRef.name: …`).
 */
export function fieldPrefix(kind: string, obj: KubeObject, opts: ResolveOptions): string {
  return opts.self ? "" : `${kind} ${obj.metadata?.name ?? ""} `;
}
