/**
 * Turns a QdrantConnection into something to call: the REST URL (given, or a Service's cluster DNS name),
 * the API key and CA from their Secrets, and the peer-discovery settings with their defaults.
 */
import type { QdrantConnectionSpec } from "../api/v1alpha1/qdrant-connection.ts";
import { tlsDispatcher, type QdrantEndpoint } from "./rest.ts";
import type { PeerDiscoverySettings } from "./peers.ts";

export interface ResolvedConnection {
  endpoint: QdrantEndpoint;
  discovery: PeerDiscoverySettings;
}

/** Reads a Secret key; supplied by the caller so this module stays free of Kubernetes. */
export type SecretReader = (ref: { name: string; key: string }, field: string) => Promise<string>;

/** Resolves a named Service port to its number; supplied by the caller. */
export type ServicePortResolver = (namespace: string, service: string, port: string) => Promise<number>;

export async function resolveConnection(spec: QdrantConnectionSpec, namespace: string, readSecret: SecretReader, resolvePort: ServicePortResolver): Promise<ResolvedConnection> {
  const https = spec.url ? spec.url.startsWith("https://") : spec.tls !== undefined;
  let url: string;
  if (spec.url) {
    url = spec.url.replace(/\/+$/, "");
  } else {
    const svc = spec.service!;
    const ns = svc.namespace ?? namespace;
    const port = typeof svc.port === "string" && !/^\d+$/.test(svc.port) ? await resolvePort(ns, svc.name, svc.port) : Number(svc.port ?? 6333);
    url = `${https ? "https" : "http"}://${svc.name}.${ns}.svc:${port}`;
  }
  const apiKey = spec.apiKeySecretRef ? await readSecret(spec.apiKeySecretRef, "spec.apiKeySecretRef") : undefined;
  let dispatcher;
  if (https && spec.tls) {
    const caPem = spec.tls.caSecretRef ? await readSecret(spec.tls.caSecretRef, "spec.tls.caSecretRef") : undefined;
    dispatcher = tlsDispatcher({
      ...(caPem ? { caPem } : {}),
      ...(spec.tls.serverName ? { serverName: spec.tls.serverName } : {}),
      ...(spec.tls.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
  }
  const peers = spec.peers;
  return {
    endpoint: { url, timeoutMs: (spec.timeoutSeconds ?? 30) * 1000, ...(apiKey ? { apiKey } : {}), ...(dispatcher ? { dispatcher } : {}) },
    discovery: {
      mode: peers?.mode ?? "Cluster",
      restPort: peers?.restPort ?? 6333,
      scheme: peers?.scheme ?? (https ? "https" : "http"),
      ...(peers?.urls ? { urls: peers.urls } : {}),
    },
  };
}
