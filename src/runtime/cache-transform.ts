/**
 * What the manager's informers keep of each object. The apiserver sends every object with
 * `metadata.managedFields`: server-side apply's record of which manager set which field, one entry per
 * writer (the user's create, our status writes), each a tree of every field it set. The controllers
 * never read it, and it is often the largest part of a small object, so the caches drop it (client-go's
 * TransformStripManagedFields does the same). Leaving it out of a write is safe: the apiserver keeps the
 * stored managedFields when a request does not set them, and the controllers write only merge patches.
 *
 * Nothing else is dropped: annotations, labels, owner references, status are all read somewhere.
 */
import type { KubeObject } from "./resource.ts";

/** Drops metadata.managedFields, in place (the object is freshly decoded and the cache's only copy). */
export function stripForCache<T extends KubeObject>(obj: T): T {
  if (obj.metadata && "managedFields" in obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
  return obj;
}
