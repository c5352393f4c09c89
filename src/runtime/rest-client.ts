/**
 * A dynamic JSON client for any resource type, on @kubernetes/client-node's own transport: the request
 * context it builds, the kubeconfig's authentication (client certs, tokens, exec plugins, proxies) and its
 * fetch library. The generated typed clients deserialize known kinds into classes with Date fields while
 * watch events arrive as plain JSON; using plain JSON for list, get and write keeps one representation
 * in the cache and in reconcilers, and lets one code path write the status of any kind.
 */
import { HttpMethod, IsomorphicFetchHttpLibrary, ServerConfiguration, type KubeConfig } from "@kubernetes/client-node";
import { ApiError } from "./errors.ts";
import { resourcePath, type KubeObject, type ObjectKey, type ResourceType } from "./resource.ts";

export type QueryParams = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: QueryParams;
  body?: unknown;
  /** Defaults to application/json for bodies. */
  contentType?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; pages are followed until the list is complete. */
  limit?: number;
  signal?: AbortSignal;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";

/**
 * What the runtime's pieces depend on: one abstract `request`, and typed helpers built on it. A unit test
 * subclasses it with an in-memory `request`; {@link RestClient} sends to the apiserver.
 */
export abstract class KubeClient {
  /** Sends one request; resolves with the parsed JSON body, rejects with {@link ApiError} on non-2xx. */
  abstract request<T>(method: HttpMethod, path: string, opts?: RequestOptions): Promise<T>;

  get<T extends KubeObject>(rt: ResourceType, key: ObjectKey): Promise<T> {
    return this.request<T>(HttpMethod.GET, resourcePath(rt, key.namespace, key.name));
  }

  /** Lists in pages of `limit` (default 500), returning every item and the list's resourceVersion. */
  async list<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    for (;;) {
      const page = await this.request<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(HttpMethod.GET, resourcePath(rt, namespace), {
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit ?? 500, continue: cont },
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      if (!cont) {
        // Items of a list carry no apiVersion/kind; restore them so objects look the same as from a watch.
        const apiVersion = rt.group === "" ? rt.version : `${rt.group}/${rt.version}`;
        for (const item of items) {
          item.apiVersion ??= apiVersion;
          item.kind ??= rt.kind;
        }
        return { items, resourceVersion: page.metadata?.resourceVersion ?? "" };
      }
    }
  }

  create<T extends KubeObject>(rt: ResourceType, obj: T): Promise<T> {
    return this.request<T>(HttpMethod.POST, resourcePath(rt, obj.metadata?.namespace), { body: obj });
  }

  /** PUT of the whole object; carries metadata.resourceVersion, so a concurrent change is a 409. */
  replace<T extends KubeObject>(rt: ResourceType, obj: T, subresource?: string): Promise<T> {
    const m = obj.metadata ?? {};
    return this.request<T>(HttpMethod.PUT, resourcePath(rt, m.namespace, m.name, subresource), { body: obj });
  }

  patch<T extends KubeObject>(rt: ResourceType, key: ObjectKey, patch: unknown, opts: { contentType?: string; subresource?: string } = {}): Promise<T> {
    return this.request<T>(HttpMethod.PATCH, resourcePath(rt, key.namespace, key.name, opts.subresource), {
      body: patch,
      contentType: opts.contentType ?? MERGE_PATCH,
    });
  }

  delete(rt: ResourceType, key: ObjectKey): Promise<unknown> {
    return this.request(HttpMethod.DELETE, resourcePath(rt, key.namespace, key.name));
  }
}

export class RestClient extends KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #userAgent: string | undefined;

  constructor(kubeConfig: KubeConfig, opts: { userAgent?: string } = {}) {
    super();
    this.kubeConfig = kubeConfig;
    this.#userAgent = opts.userAgent;
  }

  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const ctx = new ServerConfiguration(cluster.server, {}).makeRequestContext(path, method);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam("Accept", "application/json");
    if (this.#userAgent) ctx.setHeaderParam("User-Agent", this.#userAgent);
    if (opts.body !== undefined) {
      ctx.setHeaderParam("Content-Type", opts.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(opts.body));
    }
    if (opts.signal) ctx.setSignal(opts.signal);
    await this.kubeConfig.applySecurityAuthentication(ctx);
    const res = await this.#http.send(ctx).toPromise();
    const text = await res.body.text();
    let body: unknown = text;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text: an error page from a proxy, not JSON
      }
    }
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299) throw new ApiError(method, path, res.httpStatusCode, body);
    return body as T;
  }
}
