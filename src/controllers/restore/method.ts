/**
 * Which method restores a chosen backup (spec.method against what the backup is): pure, used by
 * decide.ts before any Job exists.
 */
import type { QdrantRestoreSpec } from "../../api/v1alpha1/restore.ts";
import type { ResolvedSource } from "./source/resolve-source.ts";

type ResolvedOk = Extract<ResolvedSource, { ok: true }>;

/**
 * Auto: Pull, unless the backup needs the Job to transform its bytes while it streams them: a
 * FullStorage archive (the Job takes one collection out of it) or a compressed or encrypted object
 * (the Job decompresses and decrypts; Qdrant recovers a URL's bytes as they are). Those are Upload, and
 * an explicit Pull of one is refused (MethodNotPossible): nothing is created on Qdrant.
 */
export function methodFor(spec: QdrantRestoreSpec, source: ResolvedOk): { ok: true; method: "Pull" | "Upload" } | { ok: false; reason: string; message: string } {
  const asked = spec.method ?? "Auto";
  if (asked === "Upload") return { ok: true, method: "Upload" };
  const why = needsUpload(source);
  if (why === undefined) return { ok: true, method: "Pull" };
  if (asked === "Pull") return { ok: false, reason: "MethodNotPossible", message: `spec.method: Pull cannot restore backup ${source.candidate.backupId}: ${why}; use Upload or Auto` };
  return { ok: true, method: "Upload" };
}

/** Why only the Job can restore the backup (undefined: Qdrant can recover its objects from URLs). */
function needsUpload(source: ResolvedOk): string | undefined {
  if (source.mode === "FullStorage") return "it is a full-storage archive, whose collection the Job takes out while it streams";
  const encoded = source.files.filter((f) => f.compression !== undefined || f.encryption !== undefined);
  if (encoded.length === 0) return undefined;
  const how = [encoded.some((f) => f.compression) ? "compressed" : "", encoded.some((f) => f.encryption) ? "encrypted" : ""].filter(Boolean).join(" and ");
  const what = [encoded.some((f) => f.compression) ? "decompress" : "", encoded.some((f) => f.encryption) ? "decrypt" : ""].filter(Boolean).join(" or ");
  return `its objects are ${how} (${encoded[0]!.key}${encoded.length > 1 ? ` and ${encoded.length - 1} more` : ""}), and Qdrant cannot ${what} a snapshot it recovers from a URL; the Job does it while it streams them`;
}
