/**
 * The contract of the snapshot codec: how a backup Job turns a snapshot's bytes into the object it
 * stores (compress, then encrypt, both while streaming), and how a restore Job turns the object back.
 * Implemented by encode.ts (encodeSnapshot), decode.ts (decodeObject) and age-keys.ts (parseAgeKeys);
 * callers hash and count on either side themselves (the manifest records the snapshot's sha256 and the
 * stored object's), so the codec only transforms.
 *
 * Formats are the standard ones, so a person with the bucket, `zstd` and `age` restores by hand:
 * a zstd frame with its content checksum, inside an age v1 file (X25519 recipients).
 */

/** A parsed age key file (the location's spec.encryption.keySecretRef). Never logged, never in a plan or a status. */
export interface AgeKeys {
  /** AGE-SECRET-KEY-1… lines, in file order: restores try each. */
  identities: string[];
  /** What backups encrypt to: the first identity's recipient, then every age1… line, without duplicates. */
  recipients: string[];
}

export interface EncodeSettings {
  compression?: { algorithm: "zstd"; level: number };
  encryption?: { keys: AgeKeys };
}

/** What the manifest says of an object's encoding (ManifestFile's compression and encryption). */
export interface ObjectEncoding {
  compression?: { algorithm: "zstd" };
  encryption?: { scheme: "age-v1" };
}

/** The manifest's `encryption.scheme` for age v1 files. */
export const AGE_SCHEME = "age-v1" as const;
