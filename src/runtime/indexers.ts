/**
 * Index functions every controller may want (see ObjectCache.addIndex), named so that two controllers
 * sharing an informer share the index too.
 */
import type { IndexFunc } from "./cache.ts";
import { controllerOf, type KubeObject } from "./resource.ts";

/** Objects by the uid of their controller reference: "what does this owner control?" */
export const CONTROLLER_UID_INDEX = "controller-uid";

export const byControllerUid: IndexFunc<KubeObject> = (obj) => {
  const uid = controllerOf(obj)?.uid;
  return uid ? [uid] : [];
};

/** "namespace/value": the key of an index of objects by a name they reference in their own namespace. */
export function namespacedValue(namespace: string | undefined, name: string): string {
  return `${namespace ?? ""}/${name}`;
}
