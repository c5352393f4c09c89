/**
 * Point ids: Qdrant accepts unsigned integers and UUIDs (several spellings) and always answers with the
 * number or the hyphenated lower-case UUID. Internally each id gets a string key whose ordering matches
 * Qdrant's (all numbers first, ascending, then UUIDs in byte order), which scroll pagination depends on.
 */
import { formatError } from "./errors.ts";

export type PointId = number | string;

const UUID_HEX = /^[0-9a-f]{32}$/;

/** Normalises a UUID in any spelling the `uuid` crate accepts; undefined if it is not one. */
export function normaliseUuid(text: string): string | undefined {
  let s = text.trim().toLowerCase();
  if (s.startsWith("urn:uuid:")) s = s.slice(9);
  if (s.startsWith("{") && s.endsWith("}")) s = s.slice(1, -1);
  const hex = s.length === 36 && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s)
    ? s.replaceAll("-", "")
    : s;
  if (!UUID_HEX.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Validates a JSON point id; the error text is serde's for the untagged ExtendedPointId enum. */
export function parsePointId(v: unknown): PointId {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    const u = normaliseUuid(v);
    if (u !== undefined) return u;
  }
  throw formatError("data did not match any variant of untagged enum ExtendedPointId");
}

/** Parses an id from a URL path segment (`GET /points/{id}`): digits are numbers, else a UUID. */
export function parsePathPointId(s: string): PointId | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  return normaliseUuid(s);
}

export function pointKey(id: PointId): string {
  return typeof id === "number" ? `n:${id}` : `u:${id}`;
}

export function keyToId(key: string): PointId {
  return key.startsWith("n:") ? Number(key.slice(2)) : key.slice(2);
}

/** Qdrant's ExtendedPointId order: numeric ids before UUIDs. */
export function compareKeys(a: string, b: string): number {
  const an = a.startsWith("n:");
  const bn = b.startsWith("n:");
  if (an && bn) return Number(a.slice(2)) - Number(b.slice(2));
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Stable, well-spread hash used to route a point to a shard (FNV-1a over the key). */
export function shardOf(key: string, shardNumber: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shardNumber;
}
