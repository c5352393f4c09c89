/**
 * Reads what a pod references (Secrets, ConfigMaps, service account tokens) with the node's own
 * identity. The Node authorizer allows it only for pods bound to this node, and it learns of a binding
 * from its own watch a moment after the scheduler binds: a 403 right after binding is retried briefly
 * before it counts as an error. One instance lives for one attempt to start a pod or container, so each
 * object is read once per attempt, as a kubelet's cache would serve it.
 */
import { ApiError, isApiError, type ApiClient } from "./api-client.ts";
import type { ConfigMap, Pod, Secret } from "./types.ts";

const FORBIDDEN_RETRY_MS = 5000;

export class PodObjects {
  private readonly api: ApiClient;
  private readonly namespace: string;
  private readonly cache = new Map<string, Promise<unknown>>();

  constructor(api: ApiClient, namespace: string) {
    this.api = api;
    this.namespace = namespace;
  }

  private async getWithRetry<T>(path: string): Promise<T | undefined> {
    const deadline = Date.now() + FORBIDDEN_RETRY_MS;
    for (;;) {
      try {
        return await this.api.request<T>(path);
      } catch (err) {
        if (isApiError(err, 404)) return undefined;
        if (!isApiError(err, 403) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.cache.set(key, p);
    }
    return p;
  }

  /** The Secret, or undefined if it does not exist. */
  secret(name: string): Promise<Secret | undefined> {
    return this.cached(`secret/${name}`, () => this.getWithRetry<Secret>(`/api/v1/namespaces/${this.namespace}/secrets/${encodeURIComponent(name)}`));
  }

  /** The ConfigMap, or undefined if it does not exist. */
  configMap(name: string): Promise<ConfigMap | undefined> {
    return this.cached(`configmap/${name}`, () => this.getWithRetry<ConfigMap>(`/api/v1/namespaces/${this.namespace}/configmaps/${encodeURIComponent(name)}`));
  }

  /** A token bound to the pod, as the kubelet requests one for a projected serviceAccountToken. */
  async serviceAccountToken(pod: Pod, audience: string | undefined, expirationSeconds: number | undefined): Promise<string> {
    const sa = pod.spec.serviceAccountName || "default";
    const body = {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: {
        audiences: audience ? [audience] : [],
        expirationSeconds: expirationSeconds ?? 3600,
        boundObjectRef: { apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid },
      },
    };
    const deadline = Date.now() + FORBIDDEN_RETRY_MS;
    for (;;) {
      try {
        const res = await this.api.request<{ status?: { token?: string } }>(`/api/v1/namespaces/${this.namespace}/serviceaccounts/${encodeURIComponent(sa)}/token`, { method: "POST", body });
        if (!res.status?.token) throw new ApiError(500, "", "TokenRequest returned no token");
        return res.status.token;
      } catch (err) {
        if (!isApiError(err, 403) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

/** Decoded values of a Secret's data (base64) or a ConfigMap's data and binaryData. */
export function secretValues(secret: Secret): Map<string, Buffer> {
  return new Map(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));
}

export function configMapValues(cm: ConfigMap): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm.data ?? {})) out.set(k, Buffer.from(v, "utf8"));
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out.set(k, Buffer.from(v, "base64"));
  return out;
}
