/** The operator's API group and version. A group we own, so no other project's CRDs can collide with ours. */
export const GROUP = "qdrant-operator.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get qdrant` lists every kind of ours. */
export const CATEGORY = "qdrant";
