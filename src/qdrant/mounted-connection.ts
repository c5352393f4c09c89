/**
 * The Qdrant side of a Job's environment: a QdrantApi at the plan's URL, with the API key from its
 * `secretKeyRef` variable and the CA from its mounted Secret file (the manager resolves a connection
 * from the Secrets themselves instead: endpoint.ts). The Job owns the dispatcher, so that `close` can
 * end its keep-alive sockets, which would otherwise hold the process open after the work is done.
 */
import { readFileSync } from "node:fs";
import { QdrantApi } from "./client.ts";
import { tlsDispatcher } from "./rest.ts";

export interface MountedConnection {
  url: string;
  timeoutSeconds: number;
  apiKey?: string;
  /** Path of the mounted CA bundle (PEM). */
  caFile?: string;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

export function openMountedConnection(c: MountedConnection): { qdrant: QdrantApi; close: () => Promise<void> } {
  const dispatcher = tlsDispatcher({
    ...(c.caFile ? { caPem: readFileSync(c.caFile, "utf8") } : {}),
    ...(c.serverName ? { serverName: c.serverName } : {}),
    ...(c.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
  });
  const qdrant = new QdrantApi({ url: c.url, timeoutMs: c.timeoutSeconds * 1000, dispatcher, ...(c.apiKey ? { apiKey: c.apiKey } : {}) });
  return { qdrant, close: () => dispatcher.close() };
}
