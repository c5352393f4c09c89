/**
 * A Qdrant collection name as one segment of an object key. Qdrant allows nearly any character in a name
 * (spaces, "#", "+", "%", non-ASCII, "." and ".."), which S3 tools, presigned URLs and MinIO's path
 * checks handle badly, so the segment is percent-encoded:
 * - bytes of [A-Za-z0-9_.-] stay as they are, so usual names ("docs", "products_v2") read as themselves;
 * - every other UTF-8 byte becomes %XX (uppercase hex), including "%" itself, so decoding is exact;
 * - a name made only of dots has its dots encoded too ("." is a path step to S3 consoles and MinIO);
 * - an encoded name over MAX_SEGMENT_BYTES keeps its first part and ends with "~" and 16 hex of the
 *   name's sha256. "~" is never produced by the encoding, so it marks such a segment: the name cannot
 *   be read back from the key, but the manifest holds it, and the same name always maps to the same
 *   segment, so listing a collection's backups still works. This keeps keys under S3's 1024 bytes.
 */
import { createHash } from "node:crypto";

export const MAX_SEGMENT_BYTES = 200;
const HASH_HEX = 16;
const PLAIN_BYTE = /[A-Za-z0-9_.-]/;

export function encodeCollectionSegment(collection: string): string {
  if (collection === "") throw new RangeError("a collection name cannot be empty");
  let out = "";
  for (const byte of Buffer.from(collection, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && PLAIN_BYTE.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  if (/^\.+$/.test(out)) out = out.replaceAll(".", "%2E");
  if (out.length <= MAX_SEGMENT_BYTES) return out;
  const hash = createHash("sha256").update(collection, "utf8").digest("hex").slice(0, HASH_HEX);
  // Cut before a partial %XX escape.
  let head = out.slice(0, MAX_SEGMENT_BYTES - HASH_HEX - 1);
  head = head.replace(/%[0-9A-F]?$/, "");
  return `${head}~${hash}`;
}

/**
 * The collection name a segment encodes; undefined for a shortened (hashed) segment, whose name is only
 * in its manifest, and for text that encodeCollectionSegment cannot have produced.
 */
export function decodeCollectionSegment(segment: string): string | undefined {
  if (segment === "" || segment.includes("~") || !/^([A-Za-z0-9_.-]|%[0-9A-F]{2})+$/.test(segment)) return undefined;
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return undefined;
  }
  // Only the canonical encoding is accepted, so one name has exactly one segment.
  return encodeCollectionSegment(name) === segment ? name : undefined;
}

/** True for a segment that encodeCollectionSegment can have produced (plain or shortened). */
export function isCollectionSegment(segment: string): boolean {
  if (decodeCollectionSegment(segment) !== undefined) return true;
  return new RegExp(`^([A-Za-z0-9_.-]|%[0-9A-F]{2})*~[0-9a-f]{${HASH_HEX}}$`).test(segment) && segment.length <= MAX_SEGMENT_BYTES;
}
