/**
 * Snapshot recovery on one peer, raw HTTP: from a URL Qdrant downloads itself (a presigned S3 GET, the
 * restore's Pull method) and from a body the caller streams (the Upload method). Both wait for Qdrant to
 * finish (`wait=true`) with no client-side timeout: recovering a large snapshot takes as long as it
 * takes, and only the caller's signal, a dead peer or the Job's activeDeadlineSeconds end it. Snapshots
 * are per peer, so `ep.url` is the peer's own REST URL. Reached through QdrantApi (client.ts).
 *
 * What Qdrant does before it changes anything (../shared/qdrant/API-NOTES.md §3): a checksum that
 * differs is refused after the download (or the spooled upload) and before the collection is created,
 * and so is an archive that is not a collection snapshot. So a failed call with one of the codes below
 * left no collection behind; a call cut while Qdrant was already restoring (the caller's signal, a
 * connection reset) may have, and the caller has to look.
 *
 * The upload body is multipart/form-data built on the fly around the caller's stream: the envelope is a
 * few hundred bytes, the Content-Length is exact, and the bytes flow through with the stream's own
 * backpressure (memory flat, no temp file). The closing boundary goes out only after the file's last
 * byte, a length check and the caller's `beforeEnd`: whatever fails before it (a body shorter or longer
 * than announced, a checksum the caller computed while streaming, the source stream's own error) aborts
 * the request, so Qdrant sees an incomplete multipart stream and recovers nothing.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { isOperatorError, OperatorError, type ErrorCode } from "../errors.ts";
import { collectionPath } from "./path.ts";
import { qdrantJson, qdrantJsonAnswer, type QdrantEndpoint, type RawCallOptions } from "./rest.ts";

/** What happens to the other replicas of a restored shard (API-NOTES §10); Qdrant's default is `snapshot`. */
export type RecoverPriority = "snapshot" | "replica" | "no_sync";

export interface RecoverFromUrl {
  /** http(s) URL Qdrant downloads (a presigned S3 GET), or a `file://` inside its snapshots directory. */
  location: string;
  /** SHA-256 (64 hex) Qdrant checks before it changes anything. */
  checksum?: string | undefined;
  priority?: RecoverPriority | undefined;
}

export interface UploadMeta {
  /** The body's exact length in bytes; a body that ends shorter, or runs longer, fails the call. */
  size: number;
  /** The file name Qdrant keeps the upload under in its snapshots directory (sanitised by Qdrant too). */
  filename: string;
  checksum?: string | undefined;
  priority?: RecoverPriority | undefined;
  /**
   * Awaited after the body's last byte and before the closing boundary: when it rejects, the request is
   * aborted and Qdrant never sees a complete upload (the FullStorage path checks the whole archive's
   * SHA-256 here, after the collection's entry went out and the rest of the archive was read).
   */
  beforeEnd?: (() => Promise<void>) | undefined;
}

/**
 * Qdrant's recovery refusals as the registry's codes (texts: API-NOTES §3 and §11): a checksum mismatch
 * (the URL path's `Snapshot checksum mismatch: expected G, got C` and the upload's `Checksum mismatch:
 * expected C, actual G`) and a target whose vectors or shard number differ. Anything else stays as
 * rest.ts coded it.
 */
export function recoveryError(err: unknown): unknown {
  if (!isOperatorError(err, "QDRANT_API_ERROR")) return err;
  let code: ErrorCode | undefined;
  if (/: 400 (Wrong input: Snapshot checksum mismatch|Checksum mismatch): /.test(err.message)) code = "SNAPSHOT_CHECKSUM_MISMATCH";
  else if (/: 400 Wrong input: Snapshot is not compatible with existing collection/.test(err.message)) code = "TARGET_INCOMPATIBLE";
  return code === undefined ? err : new OperatorError(code, err.message, { cause: err });
}

/** PUT /collections/{c}/snapshots/recover?wait=true: Qdrant downloads `location` and recovers it here. */
export async function recoverSnapshot(ep: QdrantEndpoint, collection: string, req: RecoverFromUrl, opts: RawCallOptions = {}): Promise<void> {
  const body = {
    location: req.location,
    ...(req.checksum !== undefined ? { checksum: req.checksum } : {}),
    ...(req.priority !== undefined ? { priority: req.priority } : {}),
  };
  try {
    await qdrantJson<boolean>(ep, "PUT", `${collectionPath(collection)}/snapshots/recover?wait=true`, body, { ...opts, noTimeout: true });
  } catch (err) {
    throw recoveryError(err);
  }
}

/** A part's file name as a quoted-string: no quote, backslash or line break can end the header early. */
function quotedFilename(name: string): string {
  return name.replace(/[\r\n"\\]/g, (ch) => encodeURIComponent(ch));
}

/** The multipart envelope around the one file part, and the exact Content-Length of the whole body. */
export function multipartEnvelope(boundary: string, filename: string, size: number): { head: Buffer; tail: Buffer; contentLength: number } {
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="${quotedFilename(filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { head, tail, contentLength: head.length + size + tail.length };
}

/** Bytes streamed between two young-generation collections (youngCollector). */
const YOUNG_GC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * A byte counter that runs a minor GC every YOUNG_GC_EVERY_BYTES, when the process exposes `gc` (the
 * restore Job's NODE_OPTIONS has --expose-gc; src/controllers/restore/build-job.ts); undefined otherwise.
 * Why: every chunk that streams through is a fresh off-heap buffer (the socket's read and the HTTP
 * parser's copy of the body), garbage a few microseconds later, but its JS handle is tiny, so the young
 * generation fills only every few MiB of data and V8 answers the growing external memory with full
 * mark-compacts instead (bench/restore-upload-vs-pipe.ts: ~27 per 0.5 GiB, up to 64 MiB of dead buffers
 * between them). A scavenge of a 1 MiB semi-space frees them for a millisecond.
 */
function youngCollector(): ((n: number) => void) | undefined {
  const collect = globalThis.gc;
  if (typeof collect !== "function") return undefined;
  let since = 0;
  return (n) => {
    since += n;
    if (since < YOUNG_GC_EVERY_BYTES) return;
    since = 0;
    collect({ type: "minor" });
  };
}

/**
 * POST /collections/{c}/snapshots/upload?wait=true: streams `body` as the multipart field `snapshot`
 * and waits for Qdrant to recover it here. Resolves with the file bytes sent. A body that ends before
 * `meta.size` bytes or has more fails with SNAPSHOT_CORRUPT, a rejected `beforeEnd` or a failing source
 * with their own error; in all three the request is aborted before it is complete.
 */
export async function uploadSnapshot(
  ep: QdrantEndpoint,
  collection: string,
  body: Readable | AsyncIterable<Uint8Array>,
  meta: UploadMeta,
  opts: RawCallOptions = {},
): Promise<{ bytes: number }> {
  if (!Number.isSafeInteger(meta.size) || meta.size < 0) throw new OperatorError("INVALID_SPEC", `upload of ${meta.filename}: size ${meta.size} is not a byte count`);
  const boundary = `----qdrant-operator-${randomUUID()}`;
  const { head, tail, contentLength } = multipartEnvelope(boundary, meta.filename, meta.size);
  let bytes = 0;
  /** Why the body was refused before its closing boundary went out. */
  let refused: { error: unknown } | undefined;
  let finished = false;
  const where = `upload of ${meta.filename} to collection "${collection}" at ${ep.url}`;

  const collectYoung = youngCollector();
  async function* multipart(): AsyncGenerator<Uint8Array> {
    try {
      yield head;
      for await (const chunk of body) {
        const data = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Uint8Array);
        if (bytes + data.length > meta.size) throw new OperatorError("SNAPSHOT_CORRUPT", `${where}: the body has more than the ${meta.size} bytes announced`);
        bytes += data.length;
        collectYoung?.(data.length);
        if (data.length > 0) yield data;
      }
      if (bytes !== meta.size) throw new OperatorError("SNAPSHOT_CORRUPT", `${where}: the body ended after ${bytes} of ${meta.size} bytes`);
      await meta.beforeEnd?.();
    } catch (err) {
      refused = { error: err };
      throw err;
    }
    finished = true;
    yield tail;
  }

  const query = new URLSearchParams({ wait: "true" });
  if (meta.priority !== undefined) query.set("priority", meta.priority);
  if (meta.checksum !== undefined) query.set("checksum", meta.checksum);
  try {
    await qdrantJsonAnswer<boolean>(ep, "POST", `${collectionPath(collection)}/snapshots/upload?${query.toString()}`, {
      ...opts,
      noTimeout: true,
      accept: "application/json",
      contentType: `multipart/form-data; boundary=${boundary}`,
      contentLength,
      // Not object mode: the chunks go to the socket as they come, with its backpressure.
      body: Readable.from(multipart(), { objectMode: false, highWaterMark: 64 * 1024 }),
    });
  } catch (err) {
    // The caller's signal first (rest.ts already prefers it), then what refused the body, then Qdrant's answer.
    const stopped = [opts.signal, opts.bound].find((s) => s?.aborted);
    if (stopped) throw stopped.reason;
    if (refused) throw refused.error;
    throw recoveryError(err);
  } finally {
    // Qdrant may answer (an error) before the body is through, and an abort leaves the source unread.
    if (!finished && "destroy" in body && typeof body.destroy === "function") body.destroy();
  }
  return { bytes };
}
