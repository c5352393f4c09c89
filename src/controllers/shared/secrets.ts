/**
 * Reads one key of a Secret for a reconcile. Read directly, not through an informer: watching every
 * Secret of every namespace would need cluster-wide list/watch on Secrets, which the operator's RBAC
 * should not have. Every value read is registered with the redactor before it is returned, so it can
 * never reach a log line, an Event or a condition.
 */
import { OperatorError } from "../../errors.ts";
import { isNotFound } from "../../runtime/errors.ts";
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
    throw err;
  }
  const b64 = secret.data?.[ref.key];
  if (b64 === undefined) throw new OperatorError("SECRET_NOT_FOUND", `${keyField}: Secret ${namespace}/${ref.name} has no key "${ref.key}"`);
  const value = Buffer.from(b64, "base64").toString("utf8");
  redactor.register(value);
  return value;
}
