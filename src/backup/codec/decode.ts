/**
 * Turns a stored object back into the snapshot's bytes: age v1 decrypt, then zstd decompress, both
 * while streaming (the reverse of encode.ts, memory as flat).
 *
 * The age header is opened BEFORE the promise resolves: a restore learns that none of its identities
 * opens the object (DECRYPT_WRONG_IDENTITY) before it sends any upload request or creates any
 * collection, so a wrong key leaves the target untouched. After that, what can go wrong is the bytes:
 * a truncated object, a flipped byte (age's per-chunk tag, or zstd's content checksum), something that
 * is not zstd at all. Each is a BACKUP_CORRUPT naming `what`, thrown by the iteration, so the caller's
 * upload aborts before its closing boundary and Qdrant never recovers a half object. Errors of `stored`
 * itself (S3's, a network reset) propagate unchanged: they keep their code and retryability.
 */
import { Readable, pipeline } from "node:stream";
import zlib from "node:zlib";
import { Decrypter } from "age-encryption";
import { OperatorError, isOperatorError } from "../../errors.ts";
import { fromWebStream, toWebStream } from "./encode.ts";
import type { AgeKeys, ObjectEncoding } from "./types.ts";

/** What the wrong-identity message may add (the manifest knows them, the object does not). */
export interface DecodeContext {
  /** The key file's reference, "<secret>/<key>" (the manifest's encryption.keyRef or the location's). */
  keyRef?: string;
  /** The recipients the manifest says the object was encrypted to (public keys). */
  recipients?: readonly string[];
}

/**
 * The snapshot's bytes of `stored`, an object encoded per `encoding`. Resolves once the age header is
 * open (at once without encryption). `what` names the object in messages ("peer-1.snapshot.zst.age of
 * backup b").
 * @throws OperatorError ENCRYPTION_KEY_REQUIRED (encrypted, no key file), DECRYPT_WRONG_IDENTITY (no
 * identity, or none opens it), BACKUP_CORRUPT (not an age file, a broken header); iteration throws
 * BACKUP_CORRUPT for broken bytes.
 */
export async function decodeObject(stored: AsyncIterable<Buffer>, encoding: ObjectEncoding, keys: AgeKeys | undefined, what: string, context: DecodeContext = {}): Promise<AsyncIterable<Buffer>> {
  const source = new TrackedSource(stored);
  let stream: AsyncIterable<Buffer> = source;
  if (encoding.encryption) stream = await ageDecrypt(source, keys, what, context);
  if (encoding.compression) stream = zstdDecompress(stream);
  return corruptOnError(stream, source, what);
}

async function ageDecrypt(source: TrackedSource, keys: AgeKeys | undefined, what: string, context: DecodeContext): Promise<AsyncIterable<Buffer>> {
  const keyFile = context.keyRef ? `the key file ${context.keyRef}` : "the key file";
  const encryptedTo = context.recipients && context.recipients.length > 0 ? `; it was encrypted to ${context.recipients.join(", ")}` : "";
  if (!keys) throw new OperatorError("ENCRYPTION_KEY_REQUIRED", `${what} is encrypted (age) and no key file was given (spec.encryption.keySecretRef of the QdrantBackupLocation)`);
  if (keys.identities.length === 0) {
    throw new OperatorError("DECRYPT_WRONG_IDENTITY", `cannot decrypt: the key file has no identities (${keyFile} holds only recipients, which can encrypt but not open ${what}${encryptedTo})`);
  }
  const decrypter = new Decrypter();
  for (const identity of keys.identities) decrypter.addIdentity(identity);
  try {
    return fromWebStream(await decrypter.decrypt(toWebStream(source)));
  } catch (err) {
    if (source.failedWith(err) || isOperatorError(err)) throw err;
    const message = (err as Error).message ?? String(err);
    if (message.includes("no identity matched")) {
      const n = keys.identities.length;
      throw new OperatorError("DECRYPT_WRONG_IDENTITY", `cannot decrypt: wrong identity (none of the ${n} identit${n === 1 ? "y" : "ies"} in ${keyFile} opens ${what}${encryptedTo})`);
    }
    throw new OperatorError("BACKUP_CORRUPT", `${what} is corrupt: its age header does not read (${message})`, { cause: err });
  }
}

function zstdDecompress(source: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  return pipeline(Readable.from(source, { objectMode: false }), zlib.createZstdDecompress(), () => {});
}

/** `stream`, with every error that is not `source`'s own (nor already coded) turned into BACKUP_CORRUPT. */
async function* corruptOnError(stream: AsyncIterable<Buffer>, source: TrackedSource, what: string): AsyncIterable<Buffer> {
  try {
    yield* stream;
  } catch (err) {
    if (source.failedWith(err) || isOperatorError(err) || (err as Error)?.name === "AbortError") throw err;
    const message = (err as Error)?.message ?? String(err);
    throw new OperatorError("BACKUP_CORRUPT", `${what} is corrupt: ${describe(message)} (${message})`, { cause: err });
  }
}

function describe(message: string): string {
  if (/checksum/i.test(message)) return "its bytes differ from what was compressed (zstd content checksum)";
  if (/unexpected end|ended before/i.test(message)) return "it ends early (truncated)";
  if (/invalid tag|tag/i.test(message)) return "an age chunk fails authentication (changed or truncated bytes)";
  if (/final chunk/i.test(message)) return "its age payload ends wrongly (truncated)";
  return "it does not decode";
}

/** `stored`, remembering what it threw, so its own errors (S3's) are told apart from the codec's. */
class TrackedSource implements AsyncIterable<Buffer> {
  readonly #stored: AsyncIterable<Buffer>;
  #error: unknown;
  #failed = false;
  constructor(stored: AsyncIterable<Buffer>) {
    this.#stored = stored;
  }
  failedWith(err: unknown): boolean {
    return this.#failed && (err === this.#error || (err instanceof Error && err.cause === this.#error && this.#error !== undefined));
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    try {
      yield* this.#stored;
    } catch (err) {
      this.#failed = true;
      this.#error = err;
      throw err;
    }
  }
}
