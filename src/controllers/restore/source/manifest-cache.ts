/**
 * The manifests a restore reads, kept between resolves. A manifest never changes once written (its key
 * holds the backup id, which holds the QdrantBackup's uid, so no other backup is ever written there), so
 * a manifest read and parsed once is the same on every later resolve: a `latest` restore that looked at
 * 48 hourly backups of its collection reads each of them once in the manager's life, then only the new
 * ones.
 *
 * What is kept: manifests that parsed. Not kept: a missing manifest (a backup still being written gets
 * one), nor a corrupt one (rare, and a person may repair it by uploading the right bytes; re-reading it
 * costs one GET per resolve, and the restore's condition keeps saying what is wrong until then).
 *
 * Bounded by entries and by bytes (the manifests' JSON sizes; a manifest is a few KiB, its collection
 * config included), least recently used first out. A `latest` that needs more manifests than the bound
 * holds still resolves correctly, only reading again what fell out.
 *
 * Keyed by the storage endpoint, the bucket and the key: two locations on different buckets (or
 * endpoints) may hold the same key, and only the same object is the same manifest.
 */
import { GetObjectCommand, S3ServiceException, type S3Client } from "@aws-sdk/client-s3";
import { MAX_MANIFEST_BYTES, parseManifest, type Manifest } from "../../../backup/layout/manifest.ts";
import { s3Error } from "../../../s3/client.ts";

export const DEFAULT_MAX_ENTRIES = 4096;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** What one read of a manifest found. `missing`: no object at the key (NoSuchKey). */
export type ManifestRead = { ok: true; manifest: Manifest } | { ok: false; missing: boolean; error: string };

/** Where a manifest is: the bucket of one storage endpoint (undefined: AWS's default endpoint). */
export interface ManifestPlace {
  client: S3Client;
  endpoint?: string;
  bucket: string;
}

interface Entry {
  manifest: Manifest;
  bytes: number;
}

export class ManifestCache {
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<ManifestRead>>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;
  /** GETs sent (for tests and metrics: a resolve whose manifests are cached sends none). */
  reads = 0;

  constructor(opts: { maxEntries?: number; maxBytes?: number } = {}) {
    this.#maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  size(): number {
    return this.#entries.size;
  }

  /**
   * The manifest at `key`: from the cache, or read (one GET; concurrent reads of one key share it) and
   * parsed with its key (parseManifest checks it describes the directory it sits in). Throws the coded
   * S3 error of a failed GET (s3Error), or the abort's reason.
   */
  read(place: ManifestPlace, key: string, signal?: AbortSignal): Promise<ManifestRead> {
    const id = `${place.endpoint ?? ""}\u0000${place.bucket}\u0000${key}`;
    const hit = this.#entries.get(id);
    if (hit) {
      // Most recently used last: Map keeps insertion order.
      this.#entries.delete(id);
      this.#entries.set(id, hit);
      return Promise.resolve({ ok: true, manifest: hit.manifest });
    }
    const pending = this.#inflight.get(id);
    if (pending) return pending;
    const read = this.#get(place, key, signal)
      .then((r) => {
        if (r.read.ok) this.#keep(id, r.read.manifest, r.bytes);
        return r.read;
      })
      .finally(() => this.#inflight.delete(id));
    this.#inflight.set(id, read);
    return read;
  }

  async #get(place: ManifestPlace, key: string, signal?: AbortSignal): Promise<{ read: ManifestRead; bytes: number }> {
    const { client, bucket } = place;
    this.reads++;
    let body: Uint8Array;
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
      const length = got.ContentLength ?? 0;
      if (length > MAX_MANIFEST_BYTES) {
        // Refused before its bytes are read: a multi-GiB object under a manifest's name is not one.
        (got.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return { read: { ok: false, missing: false, error: `manifest ${key} is corrupt: it is ${length} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})` }, bytes: 0 };
      }
      body = got.Body ? await got.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (isNoSuchKey(err)) return { read: { ok: false, missing: true, error: `manifest ${key} does not exist in bucket "${bucket}"` }, bytes: 0 };
      throw s3Error(err, bucket, "GetObject");
    }
    const parsed = parseManifest(body, { key });
    return { read: parsed.ok ? parsed : { ok: false, missing: false, error: parsed.error }, bytes: body.byteLength };
  }

  #keep(id: string, manifest: Manifest, bytes: number): void {
    if (bytes > this.#maxBytes) return;
    this.#entries.set(id, { manifest, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }
}

function isNoSuchKey(err: unknown): boolean {
  // A missing bucket is a 404 too, with its own code: that is s3Error's BucketNotFound, not a missing manifest.
  return err instanceof S3ServiceException && err.name !== "NoSuchBucket" && (err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404);
}
