/**
 * Child object names derived from a parent's name must stay valid DNS-1123 labels of bounded length,
 * and stay distinct. A name that fits is kept as is (readable); one that does not is cut and suffixed with
 * 8 hex characters of its SHA-256, so two long names that share a beginning never collide.
 */
import { createHash } from "node:crypto";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HASH_LENGTH = 8;

export function boundedLabel(value: string, max: number): string {
  if (value.length <= max && LABEL.test(value)) return value;
  const hash = createHash("sha256").update(value).digest("hex").slice(0, HASH_LENGTH);
  const head = value
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, max - HASH_LENGTH - 1)
    .replace(/^-+|-+$/g, "");
  return head === "" ? hash : `${head}-${hash}`;
}

/** A label value naming `value` (an object's name, up to 253 characters): itself when it is one, else shortened with a hash. */
export function labelValue(value: string): string {
  if (value.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(value)) return value;
  return boundedLabel(value, 63);
}
