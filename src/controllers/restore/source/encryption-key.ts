/**
 * The key an encrypted backup needs, checked before its restore Job exists. The Job decrypts with the
 * key file of the location the backup lives in (spec.encryption.keySecretRef), handed to it by
 * secretKeyRef (build-job.ts): a Job whose Secret is missing would sit in CreateContainerConfigError,
 * and one with no key or a key file that does not parse would fail after it was scheduled, so the
 * controller says so first, as a condition naming the field to fix. Key rotation needs nothing here:
 * the location's key file lists the old identity beside the new one, and the Job tries each.
 *
 * Whether the identities open the backup's objects is not checked here (that needs the objects' age
 * headers, which the Job reads before it changes anything on Qdrant: src/jobs/restore/encoded.ts).
 * The key's value is read only to be checked; it is registered with the redactor and never kept.
 */
import type { RestorePeerFile } from "../../../jobs/restore/contract.ts";
import type { OperatorContext } from "../../shared/context.ts";
import { locationEncryptionKey, readLocationAgeKeys, type BackupLocationObject } from "../../shared/resolve-location.ts";
import { failure, type SourceFailure } from "./failure.ts";

/** True when some file of the backup is encrypted: its Job needs the location's key file. */
export function needsEncryptionKey(files: readonly Pick<RestorePeerFile, "encryption">[]): boolean {
  return files.some((f) => f.encryption !== undefined);
}

/**
 * Undefined when the restore's Job can have the key it needs (or needs none). EncryptionKeyRequired
 * when the location names no key file, SecretNotFound (thrown, as readSecretKey says it) when its Secret
 * or key is missing, InvalidEncryptionKey when the file holds no identity a restore could decrypt with.
 */
export async function checkEncryptionKey(ctx: OperatorContext, location: BackupLocationObject, files: readonly RestorePeerFile[], backupId: string): Promise<SourceFailure | undefined> {
  if (!needsEncryptionKey(files)) return undefined;
  const name = location.metadata?.name ?? "";
  const use = locationEncryptionKey(location.spec);
  if (!use) {
    return failure(
      "ENCRYPTION_KEY_REQUIRED",
      `QdrantBackupLocation ${name} spec.encryption.keySecretRef: backup ${backupId} is encrypted (age) and the location names no key file to decrypt it with; set it to the Secret key holding the age identity the backup was encrypted to`,
    );
  }
  const keys = await readLocationAgeKeys(ctx, location);
  const field = `QdrantBackupLocation ${name} ${use.field} (Secret ${use.ref.name}, key ${use.ref.key})`;
  if (!keys || keys.identities.length === 0) {
    return failure("ENCRYPTION_KEY_INVALID", `${field} holds only age recipients (age1…), which encrypt but cannot decrypt: backup ${backupId} restores with the identity (AGE-SECRET-KEY-1…) it was encrypted to`);
  }
  return undefined;
}
