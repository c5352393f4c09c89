/**
 * Writes only the status subresource. A controller owns status and users own spec; writing through
 * /status means a reconcile can never overwrite a spec change it has not seen, and a user's `kubectl apply`
 * can never clobber status.
 *
 * Every write carries the resourceVersion the reconcile read, so a write based on a stale read fails with
 * 409 instead of silently undoing someone else's status change. That 409 surfaces as {@link ConflictError},
 * which the controller turns into a quiet requeue: the next reconcile re-reads and recomputes.
 *
 * Controllers state the whole status they want ({@link StatusWriter.updateStatusIfChanged}); the writer
 * sends the merge patch from the status they read to it (merge-patch.ts), nulls included. The
 * resourceVersion precondition is what makes that diff safe: a patch computed against a stale status
 * would remove fields it never saw, and is refused instead.
 */
import { ConflictError, isConflict } from "./errors.ts";
import { mergePatchBetween } from "./merge-patch.ts";
import { MERGE_PATCH, type CallOptions, type KubeClient } from "./rest-client.ts";
import { keyOf, resourcePath, type KubeObject, type ResourceType } from "./resource.ts";

export interface StatusWriterOptions {
  /** Recorded in managedFields as the writer of the status. */
  fieldManager?: string;
}

export class StatusWriter {
  readonly #client: KubeClient;
  readonly #fieldManager: string | undefined;

  constructor(client: KubeClient, opts: StatusWriterOptions = {}) {
    this.#client = client;
    this.#fieldManager = opts.fieldManager;
  }

  /** A view whose every write also obeys `signal` (inside a reconcile its signal applies anyway). */
  withSignal(signal: AbortSignal): StatusWriter {
    return new StatusWriter(this.#client.withSignal(signal), this.#fieldManager !== undefined ? { fieldManager: this.#fieldManager } : {});
  }

  /**
   * JSON-merge-patches `status` into the object's status, on condition that the object is still at
   * `obj.metadata.resourceVersion`. Merge semantics: fields not named are kept (set one to null to remove
   * it); arrays such as conditions are replaced whole. Controllers state the whole status they want with
   * {@link StatusWriter.updateStatusIfChanged} instead, which computes this patch.
   */
  async patchStatus<T extends KubeObject>(rt: ResourceType, obj: KubeObject, status: unknown, opts: CallOptions = {}): Promise<T> {
    const resourceVersion = obj.metadata?.resourceVersion;
    if (!resourceVersion) throw new Error("patchStatus needs the object's metadata.resourceVersion (read it first)");
    return this.#write(rt, obj, () =>
      this.#client.request<T>("PATCH", this.#path(rt, obj), {
        ...opts,
        body: { metadata: { resourceVersion }, status },
        contentType: MERGE_PATCH,
        query: { fieldManager: this.#fieldManager },
      }),
    );
  }

  /** PUTs the object to /status: its whole status replaces the stored one; spec changes in `obj` are ignored by the server. */
  async replaceStatus<T extends KubeObject>(rt: ResourceType, obj: T, opts: CallOptions = {}): Promise<T> {
    if (!obj.metadata?.resourceVersion) throw new Error("replaceStatus needs the object's metadata.resourceVersion (read it first)");
    return this.#write(rt, obj, () => this.#client.request<T>("PUT", this.#path(rt, obj), { ...opts, body: obj, query: { fieldManager: this.#fieldManager } }));
  }

  /**
   * Makes the stored status `status`: sends the merge patch from `obj.status` to `status`
   * (merge-patch.ts) — null for each key `status` no longer has, nothing for keys that are equal, an
   * `undefined` value the same as no key — and nothing at all when they are equal, so a reconcile that
   * changed nothing writes nothing (no new resourceVersion, no watch event, no reconcile loop feeding
   * itself). Returns the stored object, or `obj` itself when nothing was written.
   */
  async updateStatusIfChanged<T extends KubeObject>(rt: ResourceType, obj: T, status: unknown, opts: CallOptions = {}): Promise<{ obj: T; written: boolean }> {
    const patch = mergePatchBetween(obj.status ?? {}, status ?? {});
    if (patch === undefined) return { obj, written: false };
    return { obj: await this.patchStatus<T>(rt, obj, patch, opts), written: true };
  }

  #path(rt: ResourceType, obj: KubeObject): string {
    const key = keyOf(obj);
    return resourcePath(rt, key.namespace, key.name, "status");
  }

  async #write<T>(rt: ResourceType, obj: KubeObject, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (isConflict(err)) {
        const key = keyOf(obj);
        throw new ConflictError(`status of ${rt.kind} ${key.namespace ? key.namespace + "/" : ""}${key.name} changed since resourceVersion ${obj.metadata?.resourceVersion}`, { cause: err });
      }
      throw err;
    }
  }
}
