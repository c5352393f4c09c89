/**
 * Compressed (zstd) and encrypted (age v1) objects on their way into Qdrant (#15; method Upload only:
 * Qdrant recovers a URL's bytes as they are). The Job streams each object from S3 through a count and a
 * SHA-256 of its own bytes, the codec (src/backup/codec/decode.ts), and a count and a SHA-256 of the
 * snapshot's bytes, into the upload; nothing is spooled.
 *
 * Before anything changes on Qdrant, every encrypted object's age header is opened (openHeaders): one
 * ranged GET of its first bytes each. A key file none of whose identities opens the backup fails then
 * (WrongEncryptionKey, "cannot decrypt: wrong identity"), before the target collection is created,
 * replaced or uploaded into, on any peer: a wrong key changes nothing.
 *
 * What can still go wrong is the bytes. A flipped or missing byte fails the codec (age's per-chunk tag,
 * zstd's content checksum) while the object streams: BackupCorrupt, thrown from the upload's body, which
 * aborts the request before its closing boundary, so Qdrant recovers nothing. An object that decodes and
 * yet is not the one backed up (another object under the key) fails the check of the stored bytes
 * against the manifest's `stored` size and SHA-256, made in the upload's `beforeEnd`: the same abort.
 * A collection the first upload would create is then never created; one an earlier peer's upload
 * created is deleted by run-restore.ts, as for any failure.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { decodeObject } from "../../backup/codec/decode.ts";
import type { ObjectEncoding } from "../../backup/codec/types.ts";
import { OperatorError } from "../../errors.ts";
import type { RestorePeerFile } from "./contract.ts";
import type { RestoreContext } from "./run-context.ts";
import { openObjectStart } from "./stored-object.ts";

/**
 * How much of an object the header check reads. An age header is about 100 bytes per recipient, plus
 * the 16-byte payload nonce the decrypter reads before it resolves; 256 KiB leaves room for thousands.
 */
export const AGE_HEADER_READ_BYTES = 256 * 1024;

/** True when the object's bytes are not the snapshot's: the Job decodes it while it streams. */
export function isEncoded(file: RestorePeerFile): boolean {
  return file.compression !== undefined || file.encryption !== undefined;
}

function encodingOf(file: RestorePeerFile): ObjectEncoding {
  return { ...(file.compression ? { compression: { algorithm: file.compression.algorithm } } : {}), ...(file.encryption ? { encryption: { scheme: file.encryption.scheme } } : {}) };
}

/** The object in messages, with the key the backup was made with (the manifest's reference, never the key). */
const whatOf = (ctx: RestoreContext, file: RestorePeerFile) => `object ${file.key} of backup ${ctx.plan.backupId}${file.encryption?.keyRef ? ` (encrypted with the key ${file.encryption.keyRef})` : ""}`;

/**
 * Opens the age header of every encrypted file of the plan, one at a time (a few hundred bytes each).
 * @throws OperatorError ENCRYPTION_KEY_REQUIRED (no key file), DECRYPT_WRONG_IDENTITY, BACKUP_CORRUPT (a
 * header that does not read), BACKUP_OBJECTS_MISSING; S3's errors as they are.
 */
export async function openHeaders(ctx: RestoreContext): Promise<number> {
  const encrypted = ctx.plan.files.filter((f) => f.encryption !== undefined);
  for (const file of encrypted) {
    const start = await openObjectStart(ctx, file, AGE_HEADER_READ_BYTES);
    try {
      // Only the header: what follows is cut at the range and never read.
      await decodeObject(start, { encryption: { scheme: file.encryption!.scheme } }, ctx.keys, whatOf(ctx, file));
    } finally {
      start.destroy();
    }
  }
  return encrypted.length;
}

/** Bytes and SHA-256 of what streams through. */
class Tally {
  bytes = 0;
  readonly #hash = createHash("sha256");
  #digest: string | undefined;
  async *through(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
    for await (const chunk of source) {
      this.#hash.update(chunk);
      this.bytes += chunk.length;
      yield chunk;
    }
  }
  digest(): string {
    return (this.#digest ??= this.#hash.digest("hex"));
  }
}

export interface DecodedObject {
  /** The snapshot's bytes (FullStorage: the archive's). */
  body: AsyncIterable<Buffer>;
  /**
   * After the body's last byte (the upload's beforeEnd): throws BACKUP_CORRUPT when the object's own
   * bytes are not the manifest's `stored`, and, with `snapshot`, SNAPSHOT_CHECKSUM_MISMATCH when the
   * decoded bytes are not its size and sha256 (FullStorage checks its archive's on its own).
   */
  check(opts: { snapshot: boolean }): void;
}

/** `stored` (the object's body, from openObject) decoded; resolves once an age header is open. */
export async function openDecoded(ctx: RestoreContext, file: RestorePeerFile, stored: Readable): Promise<DecodedObject> {
  const what = whatOf(ctx, file);
  const storedTally = new Tally();
  const decodedTally = new Tally();
  const decoded = await decodeObject(storedTally.through(stored), encodingOf(file), ctx.keys, what);
  return {
    body: decodedTally.through(decoded),
    check: ({ snapshot }) => {
      const want = file.stored;
      if (want && (storedTally.bytes !== want.size || storedTally.digest() !== want.sha256)) {
        const how = storedTally.bytes !== want.size ? `${storedTally.bytes} bytes, the manifest says ${want.size}` : `SHA-256 ${storedTally.digest()}, the manifest says ${want.sha256}`;
        throw new OperatorError("BACKUP_CORRUPT", `${what} is corrupt: its stored bytes are ${how}; the upload was aborted`);
      }
      if (snapshot && (decodedTally.bytes !== file.size || decodedTally.digest() !== file.sha256)) {
        const how = decodedTally.bytes !== file.size ? `${decodedTally.bytes} bytes, the manifest says ${file.size}` : `SHA-256 ${decodedTally.digest()}, the manifest says ${file.sha256}`;
        throw new OperatorError("SNAPSHOT_CHECKSUM_MISMATCH", `${what}: the decoded snapshot is ${how}; the upload was aborted`);
      }
    },
  };
}
