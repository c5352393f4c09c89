/**
 * Turns a QdrantConnection into something to call: the REST URL (given, or a Service's cluster DNS name),
 * the API key and CA from their Secrets, and the peer-discovery settings with their defaults. The pure
 * parts (the URL, the discovery defaults) are what a Job's plan carries too, so the manager and the Jobs
 * reach the same address by one derivation.
 */
import type { QdrantConnectionSpec } from "../api/v1alpha1/qdrant-connection.ts";
import type { Dispatcher } from "undici";
import { tlsDispatcher, type QdrantEndpoint, type TlsSettings } from "./rest.ts";
import type { PeerDiscoverySettings } from "./peers.ts";

export interface ResolvedConnection {
  endpoint: QdrantEndpoint;
  discovery: PeerDiscoverySettings;
}

/** Reads a Secret key; supplied by the caller so this module stays free of Kubernetes. */
export type SecretReader = (ref: { name: string; key: string }, field: string) => Promise<string>;

/** Resolves a named Service port to its number; supplied by the caller. */
export type ServicePortResolver = (namespace: string, service: string, port: string) => Promise<number>;

const DEFAULT_PORT = 6333;
const DEFAULT_TIMEOUT_SECONDS = 30;

/** True when the connection names a Service port by name, which only the Service can turn into a number. */
export function needsPortLookup(spec: QdrantConnectionSpec): boolean {
  const port = spec.service?.port;
  return spec.url === undefined && typeof port === "string" && !/^\d+$/.test(port);
}

/** https when the URL says so; for a Service, when the connection has a `tls` section. */
export function usesTls(spec: QdrantConnectionSpec): boolean {
  return spec.url !== undefined ? spec.url.startsWith("https://") : spec.tls !== undefined;
}

/**
 * Qdrant's REST URL as a pod in the cluster reaches it: the spec's URL without a trailing slash, or the
 * Service's cluster DNS name (`resolvedPort` is the number of a named port, looked up by the caller).
 */
export function connectionUrl(spec: QdrantConnectionSpec, namespace: string, resolvedPort?: number): string {
  if (spec.url !== undefined) return spec.url.replace(/\/+$/, "");
  const svc = spec.service;
  if (!svc) throw new RangeError("a QdrantConnection has url or service");
  const ns = svc.namespace ?? namespace;
  const port = resolvedPort ?? (needsPortLookup(spec) ? undefined : Number(svc.port ?? DEFAULT_PORT));
  if (port === undefined) throw new RangeError(`spec.service.port "${String(svc.port)}" is a name: resolve it first`);
  return `${usesTls(spec) ? "https" : "http"}://${svc.name}.${ns}.svc:${port}`;
}

/** How every peer is found, with the spec's defaults (Cluster mode, port 6333, the connection's scheme). */
export function peerDiscovery(spec: QdrantConnectionSpec): PeerDiscoverySettings {
  const peers = spec.peers;
  return {
    mode: peers?.mode ?? "Cluster",
    restPort: peers?.restPort ?? DEFAULT_PORT,
    scheme: peers?.scheme ?? (usesTls(spec) ? "https" : "http"),
    ...(peers?.urls ? { urls: [...peers.urls] } : {}),
  };
}

/** Timeout of ordinary calls, in seconds (spec.timeoutSeconds, default 30). */
export function callTimeoutSeconds(spec: QdrantConnectionSpec): number {
  return spec.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}

/** The TLS settings that are not secret (server name, skip-verify); the CA comes from its Secret. */
export function tlsOptions(spec: QdrantConnectionSpec): Omit<TlsSettings, "caPem"> | undefined {
  const tls = spec.tls;
  if (!tls) return undefined;
  const out = { ...(tls.serverName ? { serverName: tls.serverName } : {}), ...(tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}) };
  return Object.keys(out).length > 0 ? out : undefined;
}

export async function resolveConnection(spec: QdrantConnectionSpec, namespace: string, readSecret: SecretReader, resolvePort: ServicePortResolver): Promise<ResolvedConnection> {
  const svc = spec.service;
  const port = needsPortLookup(spec) && svc ? await resolvePort(svc.namespace ?? namespace, svc.name, String(svc.port)) : undefined;
  const url = connectionUrl(spec, namespace, port);
  const apiKey = spec.apiKeySecretRef ? await readSecret(spec.apiKeySecretRef, "spec.apiKeySecretRef") : undefined;
  let dispatcher;
  if (usesTls(spec) && spec.tls) {
    const caPem = spec.tls.caSecretRef ? await readSecret(spec.tls.caSecretRef, "spec.tls.caSecretRef") : undefined;
    dispatcher = sharedTlsDispatcher({ ...(caPem ? { caPem } : {}), ...tlsOptions(spec) });
  }
  return {
    endpoint: { url, timeoutMs: callTimeoutSeconds(spec) * 1000, ...(apiKey ? { apiKey } : {}), ...(dispatcher ? { dispatcher } : {}) },
    discovery: peerDiscovery(spec),
  };
}

/** How many distinct TLS settings keep a pool; more than the connections a manager watches is waste. */
const MAX_SHARED_DISPATCHERS = 64;
const sharedDispatchers = new Map<string, Dispatcher>();

/**
 * The manager resolves a connection on every check (each minute) and every sweep: one dispatcher per
 * distinct TLS setting, reused, so a reconcile neither opens a connection pool of its own nor leaves one
 * behind. Least recently used first out when full; `close()` lets an evicted pool's in-flight calls end.
 * The Jobs make and close their own (mounted-connection.ts): they live for one run.
 */
function sharedTlsDispatcher(settings: TlsSettings): Dispatcher {
  const key = JSON.stringify([settings.caPem ?? "", settings.serverName ?? "", settings.insecureSkipVerify === true]);
  const found = sharedDispatchers.get(key);
  if (found) {
    sharedDispatchers.delete(key);
    sharedDispatchers.set(key, found);
    return found;
  }
  const made = tlsDispatcher(settings);
  sharedDispatchers.set(key, made);
  if (sharedDispatchers.size > MAX_SHARED_DISPATCHERS) {
    const [oldest] = sharedDispatchers;
    sharedDispatchers.delete(oldest![0]);
    void oldest![1].close().catch(() => undefined);
  }
  return made;
}
