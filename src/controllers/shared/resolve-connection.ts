/**
 * The one resolver of a QdrantConnection reference, for every controller that talks to a Qdrant (its own
 * check, backups and their sweep, restores and rollouts next): the object, the Secret keys it uses, a
 * check that they all exist, a ready endpoint (URL, API key, TLS, peer discovery), the address a Job's
 * plan carries, and the Job environment that hands the Secrets to a Job.
 *
 * Messages name the field. For the connection's own conditions the field is bare
 * (`spec.apiKeySecretRef.name: …`); for another object that refers to it (`{ self: false }`, the default)
 * it is prefixed with the connection (`QdrantConnection qdrant spec.apiKeySecretRef.name: …`).
 */
import type { QdrantPlan } from "../../jobs/protocol/qdrant-plan.ts";
import type { QdrantConnectionSpec, QdrantConnectionStatus } from "../../api/v1alpha1/qdrant-connection.ts";
import { JOB_ENV } from "../../jobs/protocol/env.ts";
import { callTimeoutSeconds, connectionUrl, needsPortLookup, peerDiscovery, resolveConnection, tlsOptions, type ResolvedConnection } from "../../qdrant/endpoint.ts";
import type { PeerDiscoverySettings } from "../../qdrant/peers.ts";
import type { TlsSettings } from "../../qdrant/rest.ts";
import type { KubeObject } from "../../runtime/resource.ts";
import { QDRANT_CONNECTIONS } from "../resources.ts";
import type { OperatorContext } from "./context.ts";
import { fieldPrefix, findReferenced, type ObjectLookup, type ResolveOptions } from "./resolve-object.ts";
import { checkSecretKeys, jobEnvironmentFor, readSecretKey, type JobEnvironment, type SecretKeyUse } from "./secrets.ts";
import { servicePort } from "./services.ts";

export interface QdrantConnectionObject extends KubeObject {
  spec: QdrantConnectionSpec;
  status?: QdrantConnectionStatus;
}

/** Where a Job finds Qdrant's CA: a Secret volume, its path in QDRANT_CA_FILE. */
export const QDRANT_CA_DIR = "/etc/qdrant-operator/qdrant-ca";

export function findConnection(ctx: OperatorContext, namespace: string, name: string, cache?: ObjectLookup<QdrantConnectionObject>): Promise<QdrantConnectionObject | undefined> {
  return findReferenced(ctx, QDRANT_CONNECTIONS, namespace, name, cache);
}

/** The message for a reference to a connection that does not exist. */
export function connectionNotFound(namespace: string, name: string, field = "spec.connectionRef"): string {
  return `${field}: QdrantConnection ${namespace}/${name} does not exist`;
}

/** Every Secret key the connection uses: the API key (an env variable in a Job) and the CA (a file). */
export function connectionSecretKeys(spec: QdrantConnectionSpec): SecretKeyUse[] {
  const out: SecretKeyUse[] = [];
  if (spec.apiKeySecretRef) out.push({ ref: spec.apiKeySecretRef, field: "spec.apiKeySecretRef", job: { env: JOB_ENV.qdrantApiKey } });
  if (spec.tls?.caSecretRef) out.push({ ref: spec.tls.caSecretRef, field: "spec.tls.caSecretRef", job: { file: { volume: "qdrant-ca", dir: QDRANT_CA_DIR, pathEnv: JOB_ENV.qdrantCaFile } } });
  return out;
}

const where = (connection: QdrantConnectionObject, opts: ResolveOptions) => fieldPrefix("QdrantConnection", connection, opts);
const namespaceOf = (connection: QdrantConnectionObject) => connection.metadata?.namespace ?? "";

/** Reads every Secret key the connection uses; throws SECRET_NOT_FOUND naming the first missing one. */
export function checkConnectionSecrets(ctx: OperatorContext, connection: QdrantConnectionObject, opts: ResolveOptions = {}): Promise<void> {
  return checkSecretKeys(ctx.client, ctx.redactor, namespaceOf(connection), connectionSecretKeys(connection.spec), where(connection, opts));
}

/** The endpoint to call Qdrant with (API key and CA read from their Secrets) and how to find its peers. */
export function connectionEndpoint(ctx: OperatorContext, connection: QdrantConnectionObject, opts: ResolveOptions = {}): Promise<ResolvedConnection> {
  const namespace = namespaceOf(connection);
  const prefix = where(connection, opts);
  return resolveConnection(
    connection.spec,
    namespace,
    (ref, field) => readSecretKey(ctx.client, ctx.redactor, namespace, ref, `${prefix}${field}`),
    (ns, svc, port) => servicePort(ctx.client, ns, svc, port),
  );
}

/** What a Job's plan says about the connection: nothing secret (the key and the CA come through the Job environment). */
export interface ConnectionAddress {
  url: string;
  timeoutSeconds: number;
  discovery: PeerDiscoverySettings;
  tls?: Omit<TlsSettings, "caPem">;
}

/** What building a Job that reaches one connection's Qdrant takes besides the resource (restore, rollout copy). */
export interface ConnectionJobSettings {
  /** The manager's --default-job-image. */
  defaultImage: string;
  /** The connection's address (connectionAddress: a named Service port looked up). */
  address: ConnectionAddress;
}

/** The plan's `qdrant` part (src/jobs/protocol/qdrant-plan.ts) of an address: a copy, nothing shared with it. */
export function qdrantPlanOf(addr: ConnectionAddress): QdrantPlan {
  return {
    url: addr.url,
    timeoutSeconds: addr.timeoutSeconds,
    discovery: { ...addr.discovery, ...(addr.discovery.urls ? { urls: [...addr.discovery.urls] } : {}) },
    ...(addr.tls ? { tls: { ...addr.tls } } : {}),
  };
}

/** The connection's address for a Job, looking up a named Service port when the spec has one. */
export async function connectionAddress(ctx: OperatorContext, connection: QdrantConnectionObject): Promise<ConnectionAddress> {
  const spec = connection.spec;
  const namespace = namespaceOf(connection);
  const svc = spec.service;
  const port = needsPortLookup(spec) && svc ? await servicePort(ctx.client, svc.namespace ?? namespace, svc.name, String(svc.port)) : undefined;
  const tls = tlsOptions(spec);
  return { url: connectionUrl(spec, namespace, port), timeoutSeconds: callTimeoutSeconds(spec), discovery: peerDiscovery(spec), ...(tls ? { tls } : {}) };
}

/** The env (QDRANT_API_KEY from its Secret) and CA volume a Job needs to reach this connection. */
export function connectionJobEnvironment(spec: QdrantConnectionSpec): JobEnvironment {
  return jobEnvironmentFor(connectionSecretKeys(spec));
}
