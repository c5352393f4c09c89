/**
 * Reads an age key file: the text of the location's spec.encryption.keySecretRef, which a backup or a
 * restore Job gets as the env ENCRYPTION_KEYS (JOB_ENV.encryptionKeys, a secret the Job's redactor scrubs).
 *
 * The format is age's own identity file, so the same text works with the `age` CLI (`age -d -i file`):
 * `AGE-SECRET-KEY-1…` lines (X25519 identities), `#` comments and blank lines. We also accept `age1…`
 * recipient lines (a public key to encrypt to, for a second party who keeps the identity elsewhere);
 * note that `age -d -i` refuses a file holding recipient lines, so a person restoring by hand keeps the
 * identity lines only.
 *
 * Backups encrypt to the FIRST identity's recipient plus every recipient line; restores try every
 * identity. Key rotation is therefore: put the new identity first and keep the old one after it, so new
 * backups use the new key and old ones stay readable.
 *
 * Every message here names the field and a line number, never a line's text: the key file is a secret
 * and the message of an error reaches conditions, Events and the Job's termination message.
 *
 * The first identity's recipient is derived synchronously with node:crypto's X25519 (the age package's
 * identityToRecipient is async), through the small bech32 codec below (BIP 173, age's encoding).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { Decrypter, Encrypter } from "age-encryption";
import { OperatorError } from "../../errors.ts";
import { JOB_ENV } from "../../jobs/protocol/env.ts";
import type { AgeKeys } from "./types.ts";

const IDENTITY_PREFIX = "AGE-SECRET-KEY-1";
const PQ_IDENTITY_PREFIX = "AGE-SECRET-KEY-PQ-1";
const RECIPIENT_PREFIX = "age1";

/**
 * Parses `text` (an age key file) into its identities and the recipients backups encrypt to.
 * `field` names where the text came from in every error ("secret qdrant-keys key age.txt of
 * QdrantBackupLocation x's spec.encryption.keySecretRef").
 * @throws OperatorError ENCRYPTION_KEY_INVALID: a line that is neither, an identity or recipient that
 * does not decode, a post-quantum identity (not supported here), or no identity and no recipient at all.
 */
export function parseAgeKeys(text: string, field: string): AgeKeys {
  const identities: string[] = [];
  const lineRecipients: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const where = `${field}: line ${i + 1}`;
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith(PQ_IDENTITY_PREFIX)) {
      throw invalid(`${where} is a post-quantum age identity (AGE-SECRET-KEY-PQ-1…); only X25519 identities (AGE-SECRET-KEY-1…, from age-keygen) are supported`);
    }
    if (line.startsWith(IDENTITY_PREFIX)) {
      if (!validIdentity(line)) throw invalid(`${where} starts like an age identity (AGE-SECRET-KEY-1…) but does not decode as one`);
      identities.push(line);
    } else if (line.startsWith(RECIPIENT_PREFIX)) {
      if (!validRecipient(line)) throw invalid(`${where} starts like an age recipient (age1…) but does not decode as one`);
      lineRecipients.push(line);
    } else {
      throw invalid(`${where} is neither an age identity (AGE-SECRET-KEY-1…), an age recipient (age1…), a # comment nor blank`);
    }
  }
  if (identities.length === 0 && lineRecipients.length === 0) {
    throw invalid(`${field} holds no age identity (AGE-SECRET-KEY-1…) and no age recipient (age1…)`);
  }
  const recipients: string[] = [];
  for (const r of [...(identities.length > 0 ? [x25519Recipient(identities[0]!)] : []), ...lineRecipients]) {
    if (!recipients.includes(r)) recipients.push(r);
  }
  return { identities, recipients };
}

/** The key file of a Job's env ENCRYPTION_KEYS, parsed; undefined when the variable is unset or empty. */
export function agekeysFromEnv(env: NodeJS.ProcessEnv = process.env): AgeKeys | undefined {
  const text = env[JOB_ENV.encryptionKeys];
  if (text === undefined || text.trim() === "") return undefined;
  return parseAgeKeys(text, `env ${JOB_ENV.encryptionKeys} (the location's spec.encryption.keySecretRef)`);
}

/** The age1… recipient (public key) of an X25519 identity. */
export function x25519Recipient(identity: string): string {
  const scalar = bech32Decode(identity, "age-secret-key-").bytes;
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, scalar]), format: "der", type: "pkcs8" });
  const x = createPublicKey(priv).export({ format: "jwk" }).x!;
  return bech32Encode("age", Buffer.from(x, "base64url"));
}

/** The DER of a PKCS #8 X25519 private key up to its 32 raw bytes (RFC 8410). */
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

function invalid(message: string): OperatorError {
  return new OperatorError("ENCRYPTION_KEY_INVALID", message);
}

function validIdentity(line: string): boolean {
  try {
    if (bech32Decode(line, "age-secret-key-").bytes.length !== 32) return false;
    new Decrypter().addIdentity(line);
    return true;
  } catch {
    return false;
  }
}

function validRecipient(line: string): boolean {
  try {
    new Encrypter().addRecipient(line);
    return true;
  } catch {
    return false;
  }
}

// bech32 (BIP 173), without its 90-character limit (as age does). Only what the key file needs.
const CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i]!;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (const c of hrp) out.push(c.charCodeAt(0) >>> 5);
  out.push(0);
  for (const c of hrp) out.push(c.charCodeAt(0) & 31);
  return out;
}

function convertBits(data: Iterable<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const value of data) {
    acc = (acc << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >>> bits) & maxv);
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxv);
  } else if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) {
    throw new Error("invalid bech32 padding");
  }
  return out;
}

function bech32Decode(s: string, expectedHrp: string): { bytes: Uint8Array } {
  if (s !== s.toLowerCase() && s !== s.toUpperCase()) throw new Error("mixed-case bech32");
  const lower = s.toLowerCase();
  const sep = lower.lastIndexOf("1");
  if (sep < 1 || lower.length - sep - 1 < 6) throw new Error("invalid bech32");
  const hrp = lower.slice(0, sep);
  if (hrp !== expectedHrp) throw new Error("unexpected bech32 prefix");
  const data: number[] = [];
  for (const c of lower.slice(sep + 1)) {
    const v = CHARSET.indexOf(c);
    if (v < 0) throw new Error("invalid bech32 character");
    data.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...data]) !== 1) throw new Error("invalid bech32 checksum");
  return { bytes: Uint8Array.from(convertBits(data.slice(0, -6), 5, 8, false)) };
}

function bech32Encode(hrp: string, bytes: Uint8Array): string {
  const data = convertBits(bytes, 8, 5, true);
  const mod = polymod([...hrpExpand(hrp), ...data, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return hrp + "1" + [...data, ...checksum].map((v) => CHARSET[v]).join("");
}
