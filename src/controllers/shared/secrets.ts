/**
 * The Secret keys a reference needs: read for a reconcile, and handed to a Job.
 *
 * Read directly, not through an informer: watching every Secret of every namespace would need
 * cluster-wide list/watch on Secrets, which the operator's RBAC should not have. Every value read is
 * registered with the redactor before it is returned, so it can never reach a log line, an Event or a
 * condition.
 *
 * Handed to a Job by reference only: a secretKeyRef environment variable, or a Secret volume whose file
 * path is in the environment. The kubelet resolves both on the node, so no value is ever written into a
 * Job object, and the Job's pod needs no Kubernetes API rights.
 */
import type { V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { OperatorError } from "../../errors.ts";
import { isForbidden, isNotFound } from "../../runtime/errors.ts";
import type { Redactor } from "../../runtime/redact.ts";
import { resourcePath } from "../../runtime/resource.ts";
import type { KubeClient } from "../../runtime/rest-client.ts";
import { SECRETS } from "../resources.ts";

interface SecretObject {
  data?: Record<string, string>;
}

/**
 * `field` is where the reference is written: a `{name, key}` reference (`spec.apiKeySecretRef`), or the
 * key field of a reference with several keys (`spec.s3.credentials.secretRef.accessKeyIdKey`). A missing
 * Secret is blamed on the reference's `name`, a missing key on its key field.
 */
export async function readSecretKey(client: KubeClient, redactor: Redactor, namespace: string, ref: { name: string; key: string }, field: string): Promise<string> {
  const byRef = field.endsWith("Ref");
  const nameField = byRef ? `${field}.name` : field.replace(/\.[^.]+$/, ".name");
  const keyField = byRef ? `${field}.key` : field;
  let secret: SecretObject;
  try {
    secret = await client.request<SecretObject>("GET", resourcePath(SECRETS, namespace, ref.name));
  } catch (err) {
    if (isNotFound(err)) throw new OperatorError("SECRET_NOT_FOUND", `${nameField}: Secret ${namespace}/${ref.name} does not exist`);
    // Not a missing Secret, and not a crash: said like one, so whoever waits on it says why (and leaves
    // the line of work on its Qdrant instead of holding it with no status).
    if (isForbidden(err)) throw new OperatorError("SECRET_NOT_READABLE", `${nameField}: the operator may not read Secret ${namespace}/${ref.name} (${err instanceof Error ? err.message : String(err)}); grant its ServiceAccount get on Secrets in ${namespace}`, { cause: err });
    throw err;
  }
  const b64 = secret.data?.[ref.key];
  if (b64 === undefined) throw new OperatorError("SECRET_NOT_FOUND", `${keyField}: Secret ${namespace}/${ref.name} has no key "${ref.key}"`);
  const value = Buffer.from(b64, "base64").toString("utf8");
  redactor.register(value);
  return value;
}

/** One Secret key a reference uses, where the spec names it, and how a Job receives it. */
export interface SecretKeyUse {
  ref: { name: string; key: string };
  /** Where the reference is written (see readSecretKey), e.g. `spec.s3.credentials.secretRef.accessKeyIdKey`. */
  field: string;
  /** In a Job: an environment variable from secretKeyRef, or a file (a Secret volume) whose path is in `pathEnv`. */
  job: { env: string } | { file: { volume: string; dir: string; pathEnv: string } };
}

/**
 * What a Job's container needs to receive a reference's Secrets: plain data for the Job template to
 * append to its container's env and mounts and to its pod's volumes.
 */
export interface JobEnvironment {
  env: V1EnvVar[];
  volumes: V1Volume[];
  volumeMounts: V1VolumeMount[];
}

/** The name a mounted Secret key gets in its volume's directory. */
export const MOUNTED_FILE = "ca.crt";

/** The Job environment that hands over `uses`, in their order. */
export function jobEnvironmentFor(uses: readonly SecretKeyUse[]): JobEnvironment {
  const out: JobEnvironment = { env: [], volumes: [], volumeMounts: [] };
  for (const use of uses) {
    if ("env" in use.job) {
      out.env.push({ name: use.job.env, valueFrom: { secretKeyRef: { name: use.ref.name, key: use.ref.key } } });
      continue;
    }
    const { volume, dir, pathEnv } = use.job.file;
    out.volumes.push({ name: volume, secret: { secretName: use.ref.name, items: [{ key: use.ref.key, path: MOUNTED_FILE }] } });
    out.volumeMounts.push({ name: volume, mountPath: dir, readOnly: true });
    out.env.push({ name: pathEnv, value: `${dir}/${MOUNTED_FILE}` });
  }
  return out;
}

/** Several references' Job environments as one (a backup's connection and location). */
export function mergeJobEnvironments(...parts: readonly JobEnvironment[]): JobEnvironment {
  return { env: parts.flatMap((p) => p.env), volumes: parts.flatMap((p) => p.volumes), volumeMounts: parts.flatMap((p) => p.volumeMounts) };
}

/**
 * Reads every key in `uses` (each value is registered with the redactor): a Job whose Secret is missing
 * would sit in CreateContainerConfigError with no end, so callers check first and report the field.
 * `where` prefixes each field ("QdrantBackupLocation s3 ") when the reference is another object's.
 */
export async function checkSecretKeys(client: KubeClient, redactor: Redactor, namespace: string, uses: readonly SecretKeyUse[], where = ""): Promise<void> {
  for (const use of uses) await readSecretKey(client, redactor, namespace, use.ref, `${where}${use.field}`);
}
