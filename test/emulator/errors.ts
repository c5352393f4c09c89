/**
 * Qdrant's error vocabulary. Every failure the emulator reports is a {@link QdrantError} carrying the
 * HTTP status and the exact message Qdrant would print, so callers (and the operator under test) can match
 * on the same texts they would see from a real 1.19.0 server.
 */
export class QdrantError extends Error {
  readonly status: number;
  /** Seconds for a `Retry-After` header (429 only). */
  readonly retryAfter: number | undefined;

  constructor(status: number, message: string, retryAfter?: number) {
    super(message);
    this.name = "QdrantError";
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/** StorageError::BadInput. */
export const badInput = (msg: string): QdrantError => new QdrantError(400, `Wrong input: ${msg}`);
/** StorageError::AlreadyExists: same prefix as BadInput, but 409. */
export const alreadyExists = (msg: string): QdrantError => new QdrantError(409, `Wrong input: ${msg}`);
export const notFound = (msg: string): QdrantError => new QdrantError(404, `Not found: ${msg}`);
export const badRequest = (msg: string): QdrantError => new QdrantError(400, `Bad request: ${msg}`);
export const forbidden = (msg: string): QdrantError => new QdrantError(403, `Forbidden: ${msg}`);
export const serviceError = (msg: string): QdrantError =>
  new QdrantError(500, `Service internal error: ${msg}`);
export const shardUnavailable = (msg: string): QdrantError =>
  new QdrantError(503, `Shard temporarily unavailable: ${msg}`);
export const standaloneMode = (): QdrantError =>
  new QdrantError(405, "Qdrant is running in standalone mode");

export const collectionNotFound = (name: string): QdrantError =>
  notFound(`Collection \`${name}\` doesn't exist!`);
export const collectionExists = (name: string): QdrantError =>
  alreadyExists(`Collection \`${name}\` already exists!`);

/** Request-extractor validation failure (the `validator` crate), always 422. */
export const validationError = (
  where: "path parameters" | "query parameters" | "JSON body",
  items: string[],
): QdrantError => new QdrantError(422, `Validation error in ${where}: [${items.join("; ")}]`);

/** serde failure while deserialising the JSON body: 400. */
export const formatError = (msg: string): QdrantError =>
  new QdrantError(400, `Format error in JSON body: ${msg}`);

/** serde failure while deserialising the query string: 400. */
export const queryFormatError = (msg: string): QdrantError =>
  new QdrantError(400, `Query deserialize error: ${msg}`);

/** Wraps anything unexpected (I/O errors mostly) the way Qdrant wraps io::Error: a 500 service error. */
export function asQdrantError(err: unknown): QdrantError {
  if (err instanceof QdrantError) return err;
  const msg = err instanceof Error ? describeIoError(err) : String(err);
  return serviceError(msg);
}

/** Renders Node's I/O errors like Rust's io::Error Display ("No space left on device (os error 28)"). */
function describeIoError(err: Error): string {
  const e = err as NodeJS.ErrnoException;
  const osTexts: Record<string, [string, number]> = {
    ENOSPC: ["No space left on device", 28],
    ENOENT: ["No such file or directory", 2],
    EACCES: ["Permission denied", 13],
    EEXIST: ["File exists", 17],
  };
  const known = e.code !== undefined ? osTexts[e.code] : undefined;
  return known !== undefined ? `${known[0]} (os error ${known[1]})` : err.message;
}
