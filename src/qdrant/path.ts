/**
 * One segment of a Qdrant URL path, from a name we were given (a collection from a spec, a snapshot name
 * from Qdrant's answer). Percent-encoding alone is not enough: `encodeURIComponent` leaves dots alone,
 * and every URL parser (undici's, fetch's) resolves a `.` or `..` segment, so `/collections/../snapshots`
 * would reach the full-storage snapshots and `/collections/c/snapshots/..` with DELETE the collection
 * itself. The schema refuses such names (src/api/schema-helpers.ts, CollectionName), but an object
 * stored before that rule, or a name from a misbehaving Qdrant, still reaches the adapter: it refuses
 * them before sending anything. (Percent-encoded dots are no way out either: WHATWG URL parsing treats
 * `%2e` and `%2E` as dots. `encodeURIComponent` of a name never produces them: it encodes `%` itself.)
 */
import { OperatorError, type ErrorCode } from "../errors.ts";

/**
 * `value` percent-encoded as one path segment; throws (code `code`, InvalidSpec unless the name came
 * from elsewhere) for `""`, `.` and `..`, which cannot be one. `what` names the value in the message.
 */
export function pathSegment(value: string, what: string, code: ErrorCode = "INVALID_SPEC"): string {
  if (value === "" || value === "." || value === "..") {
    throw new OperatorError(code, `${what} ${JSON.stringify(value)} cannot be sent to Qdrant: in a URL path "." and ".." mean "this" and "the parent", and "" is no segment at all`);
  }
  return encodeURIComponent(value);
}

/** `/collections/{c}`, the root of every per-collection call, with `collection` refused or encoded as pathSegment does. */
export function collectionPath(collection: string): string {
  return `/collections/${pathSegment(collection, "collection name")}`;
}
