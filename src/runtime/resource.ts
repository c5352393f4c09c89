/**
 * What the runtime knows about a kind and an object without knowing which kind it is: the REST path of a
 * resource, an object's key, its owner references. Objects are plain JSON as the apiserver sends them
 * (timestamps are strings), never the client library's deserialized classes, so the informer cache, the
 * status writer and reconcilers see one representation.
 */

/** A resource type as the REST API addresses it. `group` is "" for the core group (ConfigMap, Secret…). */
export interface ResourceType {
  group: string;
  version: string;
  /** Lower-case plural used in URLs: "configmaps", "jobs". */
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  finalizers?: string[];
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Any Kubernetes object in its JSON form. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

/** What a reconcile is asked about: the object's identity, never the event that caused it. */
export interface ObjectKey {
  /** "" for cluster-scoped objects. */
  namespace: string;
  name: string;
}

export function apiVersionOf(rt: Pick<ResourceType, "group" | "version">): string {
  return rt.group === "" ? rt.version : `${rt.group}/${rt.version}`;
}

/** "/api/v1" or "/apis/<group>/<version>". */
export function groupVersionPath(rt: Pick<ResourceType, "group" | "version">): string {
  return rt.group === "" ? `/api/${rt.version}` : `/apis/${rt.group}/${rt.version}`;
}

/**
 * The collection path, optionally of one namespace; with a name, the object's path; with a subresource,
 * e.g. "status", that subresource's path.
 */
export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  let path = groupVersionPath(rt);
  if (rt.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${rt.plural}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource !== undefined) path += `/${subresource}`;
  return path;
}

/** "namespace/name", or "name" for cluster-scoped objects: the work queue's key. */
export function keyToString(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function keyFromString(s: string): ObjectKey {
  const i = s.indexOf("/");
  return i < 0 ? { namespace: "", name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

export function keyOf(obj: KubeObject): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`object of kind ${obj.kind ?? "?"} has no metadata.name`);
  return { namespace: obj.metadata?.namespace ?? "", name };
}

export function stringKeyOf(obj: KubeObject): string {
  return keyToString(keyOf(obj));
}

/** The group part of an apiVersion: "" for "v1", "batch" for "batch/v1". */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

/** The owner reference with controller=true, if any: the one object that manages this one. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/**
 * An owner reference that makes `owner` the controller of a dependent: the garbage collector deletes the
 * dependent with its owner, and {@link mapToOwner} maps the dependent's events back to the owner's key.
 */
export function controllerReference(owner: KubeObject, blockOwnerDeletion = true): OwnerReference {
  const m = owner.metadata;
  if (!owner.apiVersion || !owner.kind || !m?.name || !m.uid) throw new Error("owner needs apiVersion, kind, metadata.name and metadata.uid");
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: m.name, uid: m.uid, controller: true, blockOwnerDeletion };
}
