/**
 * A dynamic JSON client for any resource type, sent with undici over a {@link KubeAccess} (kube-access.ts:
 * the kubeconfig's server, TLS and credentials, without @kubernetes/client-node unless the kubeconfig needs
 * it). The generated typed clients deserialize known kinds into classes with Date fields while watch
 * events arrive as plain JSON; using plain JSON for list, get and write keeps one representation in the
 * cache and in reconcilers, and lets one code path write the status of any kind.
 */
import type { KubeAccess } from "./kube-access.ts";
import { ApiError, WriteRefusedError } from "./errors.ts";
import { effectiveSignal } from "./reconcile-signal.ts";
import { resourcePath, type KubeObject, type ObjectKey, type ResourceType } from "./resource.ts";

/** The HTTP methods the client sends. */
export type HttpMethod = "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "PATCH" | "DELETE";

export type QueryParams = Record<string, string | number | boolean | undefined>;

/** What every call takes: a signal that abandons the request (the reconcile's, a timeout). */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface RequestOptions extends CallOptions {
  query?: QueryParams;
  body?: unknown;
  /** Defaults to application/json for bodies. */
  contentType?: string;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; pages are followed until the list is complete. */
  limit?: number;
}

/** Options of {@link RestClient.list}. */
export interface ListCallOptions<T> extends ListOptions {
  /**
   * Applied to each item as its page arrives (after apiVersion and kind are filled in), so a long list
   * holds every item transformed and only one page as sent: an informer's cache transform drops
   * managedFields here, which was half of a 10,000-object list held until its last page.
   */
  transform?: (item: T) => T;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

const READS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** True for requests that change the cluster (everything but GET, HEAD and OPTIONS). */
export function isWrite(method: string): boolean {
  return !READS.has(method.toUpperCase());
}

/**
 * What the runtime's pieces depend on: one `request`, and typed helpers built on it. A unit test
 * subclasses it with an in-memory `send`; {@link RestClient} sends to the apiserver.
 *
 * Every request obeys a signal: the one passed in the call (or bound by {@link KubeClient.withSignal}),
 * combined with the ambient signal of the reconcile it is made for (reconcile-signal.ts), so a call made
 * from a reconcile is abandoned when the reconcile is aborted even if no one passed the signal. A request
 * whose signal has already aborted is not sent at all.
 */
export abstract class KubeClient {
  /** Sends one request; resolves with the parsed JSON body, rejects with {@link ApiError} on non-2xx. */
  request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const signal = effectiveSignal(opts.signal);
    if (signal?.aborted) return Promise.reject(abortError(signal, method, path));
    return this.send<T>(method, path, signal ? { ...opts, signal } : opts);
  }

  /** The transport: `opts.signal` is already the effective signal. */
  protected abstract send<T>(method: HttpMethod, path: string, opts: RequestOptions): Promise<T>;

  /** A view of this client whose every request also obeys `signal` (e.g. a reconcile's, for code outside it). */
  withSignal(signal: AbortSignal): KubeClient {
    return new SignalBoundClient(this, signal);
  }

  get<T extends KubeObject>(rt: ResourceType, key: ObjectKey, opts: CallOptions = {}): Promise<T> {
    return this.request<T>("GET", resourcePath(rt, key.namespace, key.name), opts);
  }

  /** Lists in pages of `limit` (default 500), returning every item and the list's resourceVersion. */
  async list<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, opts: ListCallOptions<T> = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    // Items of a list carry no apiVersion/kind; restore them so objects look the same as from a watch.
    const apiVersion = rt.group === "" ? rt.version : `${rt.group}/${rt.version}`;
    let cont: string | undefined;
    for (;;) {
      const page = await this.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>("GET", resourcePath(rt, namespace), {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit ?? 500, continue: cont },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      for (const item of page.items ?? []) {
        item.apiVersion ??= apiVersion;
        item.kind ??= rt.kind;
        items.push(opts.transform ? opts.transform(item) : item);
      }
      cont = page.metadata?.continue || undefined;
      if (!cont) return { items, resourceVersion: page.metadata?.resourceVersion ?? "" };
    }
  }

  create<T extends KubeObject>(rt: ResourceType, obj: T, opts: CallOptions = {}): Promise<T> {
    return this.request<T>("POST", resourcePath(rt, obj.metadata?.namespace), { ...opts, body: obj });
  }

  /** PUT of the whole object; carries metadata.resourceVersion, so a concurrent change is a 409. */
  replace<T extends KubeObject>(rt: ResourceType, obj: T, opts: CallOptions & { subresource?: string } = {}): Promise<T> {
    const m = obj.metadata ?? {};
    const { subresource, ...call } = opts;
    return this.request<T>("PUT", resourcePath(rt, m.namespace, m.name, subresource), { ...call, body: obj });
  }

  patch<T extends KubeObject>(rt: ResourceType, key: ObjectKey, patch: unknown, opts: CallOptions & { contentType?: string; subresource?: string } = {}): Promise<T> {
    const { subresource, contentType, ...call } = opts;
    return this.request<T>("PATCH", resourcePath(rt, key.namespace, key.name, subresource), { ...call, body: patch, contentType: contentType ?? MERGE_PATCH });
  }

  delete(rt: ResourceType, key: ObjectKey, opts: CallOptions & { query?: QueryParams } = {}): Promise<unknown> {
    return this.request("DELETE", resourcePath(rt, key.namespace, key.name), opts);
  }
}

/** {@link KubeClient.withSignal}'s view: the bound signal joins each request's own. */
class SignalBoundClient extends KubeClient {
  readonly #inner: KubeClient;
  readonly #signal: AbortSignal;

  constructor(inner: KubeClient, signal: AbortSignal) {
    super();
    this.#inner = inner;
    this.#signal = signal;
  }

  protected send<T>(method: HttpMethod, path: string, opts: RequestOptions): Promise<T> {
    const signal = opts.signal && opts.signal !== this.#signal ? AbortSignal.any([opts.signal, this.#signal]) : this.#signal;
    return this.#inner.request<T>(method, path, { ...opts, signal });
  }
}

/**
 * A view of a client that refuses every write while `refusal()` returns a reason, with
 * {@link WriteRefusedError}, before anything is sent; reads pass. The manager hands its controllers such
 * a view, fenced by the leader lease: once the lease is known lost nothing of this process reaches the
 * apiserver as a change, whatever a reconcile that ignores its signal still tries.
 */
export class FencedClient extends KubeClient {
  readonly #inner: KubeClient;
  readonly #refusal: () => string | undefined;

  constructor(inner: KubeClient, refusal: () => string | undefined) {
    super();
    this.#inner = inner;
    this.#refusal = refusal;
  }

  protected send<T>(method: HttpMethod, path: string, opts: RequestOptions): Promise<T> {
    if (isWrite(method)) {
      const why = this.#refusal();
      if (why !== undefined) return Promise.reject(new WriteRefusedError(`${method} ${path} refused: ${why}`));
    }
    return this.#inner.request<T>(method, path, opts);
  }
}

function abortError(signal: AbortSignal, method: string, path: string): Error {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "aborted";
  const err = new Error(`${method} ${path} not sent: ${why}`, { cause: reason });
  err.name = "AbortError";
  return err;
}

export class RestClient extends KubeClient {
  /**
   * The server, the headers and the one connection pool of this client. A pool per request (what the
   * client library did when the kubeconfig had any TLS setting) opened a connection for every request, a
   * TLS handshake each, left idle until undici's keep-alive timeout: while thousands of objects were
   * created, hundreds of sockets at once and most of the manager's CPU per object. Every access hands out
   * the same pool for every request (test/runtime/rest-client-connections.test.ts).
   */
  readonly access: KubeAccess;
  readonly #userAgent: string | undefined;

  constructor(access: KubeAccess, opts: { userAgent?: string } = {}) {
    super();
    this.access = access;
    this.#userAgent = opts.userAgent;
  }

  protected async send<T>(method: HttpMethod, path: string, opts: RequestOptions): Promise<T> {
    const url = new URL(this.access.server + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const { headers: auth, dispatcher } = await this.access.prepare();
    const headers: Record<string, string> = { ...auth, Accept: "application/json" };
    if (this.#userAgent) headers["User-Agent"] = this.#userAgent;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["Content-Type"] = opts.contentType ?? "application/json";
      body = JSON.stringify(opts.body);
    }
    const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method, headers, body, signal: opts.signal });
    const text = await res.body.text();
    let parsed: unknown = text;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep the text: an error page from a proxy, not JSON
      }
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw new ApiError(method, path, res.statusCode, parsed);
    return parsed as T;
  }
}
