/**
 * The JSON merge patch (RFC 7386) that turns one document into another: what the status writer sends, so
 * that a controller states the status it wants and never has to say how to get there. Without it a merge
 * patch of the desired status keeps every key the controller dropped (merge semantics keep what is not
 * named), and controllers end up writing `field: null` by hand to remove one.
 *
 * Rules, in the terms of the JSON the apiserver stores:
 * - a key that is `undefined` (or `null`) is the same as a key that is absent; `{ x: undefined }` equals `{}`;
 * - a key present before and absent now becomes `null` in the patch (merge patch's "remove");
 * - equal values give nothing; objects on both sides are compared key by key, recursively;
 * - arrays and scalars that differ are sent whole (merge patch cannot address array elements).
 */
import { isDeepStrictEqual } from "node:util";

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const absent = (v: unknown): boolean => v === undefined || v === null;

/** `v` as JSON would store it: object keys whose value is undefined or null dropped, at every depth. */
export function normalizeJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((e) => (e === undefined ? null : normalizeJson(e)));
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const [k, e] of Object.entries(v)) if (!absent(e)) out[k] = normalizeJson(e);
  return out;
}

/** The merge patch from `from` to `to`, or undefined when they are equal under the rules above. */
export function mergePatchBetween(from: unknown, to: unknown): unknown {
  if (isObject(from) && isObject(to)) {
    const patch: Json = {};
    for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
      const f = from[k];
      const t = to[k];
      if (absent(t)) {
        if (!absent(f)) patch[k] = null;
        continue;
      }
      const sub = mergePatchBetween(absent(f) ? undefined : f, t);
      if (sub !== undefined) patch[k] = sub;
    }
    return Object.keys(patch).length > 0 ? patch : undefined;
  }
  const target = normalizeJson(to);
  return isDeepStrictEqual(normalizeJson(from), target) ? undefined : (target ?? null);
}
