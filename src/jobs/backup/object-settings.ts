/**
 * How a backup Job writes each snapshot object, from its plan and its key file: the codec settings
 * (src/backup/codec/), what the manifest records of them, the object's name suffix, and the Object Lock
 * retain-until date. Pure: one place decides all of it, so the key, the manifest and the upload cannot
 * disagree.
 *
 * Why the retain-until date is the Job's start plus retainDays (rounded up to the second), fixed once per run: every object of one
 * run (snapshots and manifest) gets the same date, which the manifest and the result record. A retried
 * run writes new versions with a later date; the manifest written last names the latest one.
 */
import { OperatorError } from "../../errors.ts";
import { AGE_SCHEME, type AgeKeys, type EncodeSettings } from "../../backup/codec/types.ts";
import type { ManifestFile } from "../../backup/layout/manifest.ts";
import type { SnapshotEncoding } from "../../backup/layout/object-keys.ts";
import { JOB_ENV } from "../protocol/env.ts";
import type { BackupJobPlan } from "./contract.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ObjectSettings {
  /** For the codec; undefined when objects are stored as Qdrant made them. */
  encode?: EncodeSettings;
  /** For the object key (`.zst`, `.age`). */
  keyEncoding: SnapshotEncoding;
  /** What every ManifestFile says of the encoding (without key, size and hashes). */
  manifestEncoding: Pick<ManifestFile, "compression" | "encryption">;
  /** S3 Object Lock of every object of the backup. */
  objectLock?: { mode: "GOVERNANCE" | "COMPLIANCE"; retainUntil: Date };
}

/**
 * The settings of `plan`; `keys` is the parsed ENCRYPTION_KEYS. Throws ENCRYPTION_KEY_REQUIRED when the
 * plan encrypts and the Job has no key file (the pod's environment lacks what the controller gave it).
 */
export function objectSettings(plan: BackupJobPlan, keys: AgeKeys | undefined, startTime: Date): ObjectSettings {
  const compression = plan.encoding?.compression;
  const encryption = plan.encoding?.encryption;
  if (encryption && (!keys || keys.recipients.length === 0)) {
    throw new OperatorError("ENCRYPTION_KEY_REQUIRED", `the plan encrypts with ${encryption.keyRef}, and the Job's ${JOB_ENV.encryptionKeys} is empty (the location's spec.encryption.keySecretRef)`);
  }
  const encode: EncodeSettings = {
    ...(compression ? { compression: { algorithm: "zstd" as const, level: compression.level } } : {}),
    ...(encryption && keys ? { encryption: { keys } } : {}),
  };
  const lock = plan.objectLock;
  return {
    ...(compression || encryption ? { encode } : {}),
    keyEncoding: { ...(compression ? { compression: "zstd" as const } : {}), ...(encryption ? { encrypted: true } : {}) },
    manifestEncoding: {
      ...(compression ? { compression: { algorithm: "zstd" as const, level: compression.level } } : {}),
      // The recipients are public keys: a reader of the manifest learns which key file opens the object.
      ...(encryption && keys ? { encryption: { scheme: AGE_SCHEME, keyRef: encryption.keyRef, parameters: { recipients: [...keys.recipients] } } } : {}),
    },
    ...(lock ? { objectLock: { mode: lock.mode === "Compliance" ? "COMPLIANCE" : "GOVERNANCE", retainUntil: wholeSecondAfter(startTime.getTime() + lock.retainDays * DAY_MS) } } : {}),
  };
}

/** S3 keeps retain-until dates to the second (MinIO rounds up): the date recorded is then the one S3 reports. */
function wholeSecondAfter(ms: number): Date {
  return new Date(Math.ceil(ms / 1000) * 1000);
}

/** The manifest's and the result's `objectLock`, in the API's spelling. */
export function objectLockRecord(settings: ObjectSettings): { mode: "Governance" | "Compliance"; retainUntil: string } | undefined {
  const l = settings.objectLock;
  return l ? { mode: l.mode === "COMPLIANCE" ? "Compliance" : "Governance", retainUntil: l.retainUntil.toISOString() } : undefined;
}
