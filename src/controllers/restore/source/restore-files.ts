/**
 * What a chosen backup's manifest says a restore Job needs: the collection inside the backup, each
 * source peer's file (the shards it holds, its key, size and checksums) and the points count to verify
 * against. Pure.
 *
 * Collection mode: the manifest's collection, every peer's file with its shards.
 * FullStorage mode: one collection out of the storage archive: spec.sourceCollection, which may be left
 * out only when the storage held one collection; each peer's shards of that collection (a peer with
 * none keeps its file with no shards: it restores nothing, and peersNeeded does not count it).
 *
 * Compressed (zstd) and encrypted (age v1) files go to the Job with their codec and their stored size
 * and SHA-256: the Job decodes while it streams them into Qdrant (method Upload only: method.ts
 * methodFor). A file with an encryption scheme this operator does not know is refused here, before any
 * object is looked at (UnsupportedBackup): nothing could turn its bytes back into a snapshot. (The
 * manifest's schema admits only zstd as a compression algorithm, so an unknown one never gets here.)
 */
import type { Manifest } from "../../../backup/layout/manifest.ts";
import type { RestorePeerFile } from "../../../jobs/restore/contract.ts";
import type { SourceFailure } from "./failure.ts";
import { failure } from "./failure.ts";
import { AGE_SCHEME } from "../../../backup/codec/types.ts";

export interface RestoreFiles {
  ok: true;
  mode: "Collection" | "FullStorage";
  sourceCollection: string;
  files: RestorePeerFile[];
  expectedPoints?: number;
}

/**
 * `wanted`: spec.sourceCollection (backupRef and location sources); undefined for latest, whose manifest
 * is of its collection.
 */
export function restoreFiles(manifest: Manifest, key: string, wanted: string | undefined): RestoreFiles | SourceFailure {
  const unsupported = manifest.peers.flatMap((p, i) => {
    const f = p.file;
    const how = [
      f.compression && (f.compression.algorithm as string) !== "zstd" ? `compressed (${f.compression.algorithm})` : undefined,
      f.encryption && f.encryption.scheme !== AGE_SCHEME ? `encrypted (${f.encryption.scheme})` : undefined,
    ].filter(Boolean).join(" and ");
    return how ? [`peers[${i}].file ${f.key} is ${how}`] : [];
  });
  if (unsupported.length > 0) {
    return failure("BACKUP_UNSUPPORTED", `manifest ${key}: ${unsupported.join("; ")}; this operator version restores snapshots compressed with zstd and encrypted with ${AGE_SCHEME}, or neither`);
  }

  const file = (p: Manifest["peers"][number], shardIds: readonly number[]): RestorePeerFile => ({
    sourcePeerId: p.peerId,
    shardIds: [...shardIds],
    key: p.file.key,
    size: p.file.size,
    sha256: p.file.sha256,
    ...(p.file.stored ? { stored: { size: p.file.stored.size, sha256: p.file.stored.sha256 } } : {}),
    ...(p.file.compression ? { compression: { algorithm: "zstd" as const } } : {}),
    ...(p.file.encryption ? { encryption: { scheme: AGE_SCHEME, keyRef: p.file.encryption.keyRef } } : {}),
  });

  if (manifest.mode === "Collection") {
    const c = manifest.collection!;
    if (wanted !== undefined && wanted !== c.name) {
      return failure("COLLECTION_NOT_IN_BACKUP", `spec.sourceCollection: backup ${manifest.backupId} (manifest ${key}) holds collection ${c.name}, not ${wanted}`);
    }
    return { ok: true, mode: "Collection", sourceCollection: c.name, files: manifest.peers.map((p) => file(p, p.shardIds ?? [])), expectedPoints: c.pointsCount };
  }

  const held = (manifest.storage?.collections ?? []).map((c) => c.name);
  const what = `backup ${manifest.backupId} (full storage, manifest ${key})`;
  let name: string;
  if (wanted !== undefined) {
    if (!held.includes(wanted)) return failure("COLLECTION_NOT_IN_BACKUP", `spec.sourceCollection: ${what} holds no collection ${wanted} (it holds ${held.length > 0 ? [...held].sort().join(", ") : "none"})`);
    name = wanted;
  } else if (held.length === 1) {
    name = held[0]!;
  } else if (held.length === 0) {
    return failure("COLLECTION_NOT_IN_BACKUP", `${what} holds no collections`);
  } else {
    return failure("SOURCE_COLLECTION_REQUIRED", `${what} holds ${held.length} collections (${[...held].sort().join(", ")}): set spec.sourceCollection to the one to restore`);
  }
  const points = manifest.storage?.collections.find((c) => c.name === name)?.pointsCount;
  return {
    ok: true,
    mode: "FullStorage",
    sourceCollection: name,
    files: manifest.peers.map((p) => file(p, p.collections?.find((c) => c.name === name)?.shardIds ?? [])),
    ...(points !== undefined ? { expectedPoints: points } : {}),
  };
}
