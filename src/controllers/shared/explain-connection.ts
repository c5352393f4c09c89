/**
 * The one wording of a failed call to a QdrantConnection's Qdrant, for the connection's own Ready
 * condition and for a failed Job's status (backups, restores next): the failing side's words are kept,
 * and the message names the field to fix: `spec.url` (or `spec.service`) when Qdrant did not answer,
 * `spec.apiKeySecretRef` when it refused the key, `spec.tls.caSecretRef` (or `spec.tls.serverName`) when
 * its certificate was not trusted. Two copies drifted before: the backups named the field, the
 * connection's own condition showed only `GET http://…/: fetch failed: bad port`.
 */
import type { QdrantConnectionObject } from "./resolve-connection.ts";
import { fieldPrefix, type ResolveOptions } from "./resolve-object.ts";

export interface ExplainOptions extends ResolveOptions {
  /** Who made the call, for "reachable from …": "the manager", "the Job's pod". */
  from: string;
}

/** Node's and undici's codes for a certificate that was not trusted, or does not name the host. */
const UNTRUSTED_CERTIFICATE = /\b(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID)\b/;
const WRONG_NAME = "ERR_TLS_CERT_ALTNAME_INVALID";

/**
 * The message for a failure with condition reason `reason` and the failing side's `message`, or
 * undefined when the reason is not about the connection (a collection, the bucket).
 */
export function explainConnectionFailure(reason: string, message: string, connection: QdrantConnectionObject, opts: ExplainOptions): string | undefined {
  const spec = connection.spec;
  const prefix = fieldPrefix("QdrantConnection", connection, opts);
  const namespace = connection.metadata?.namespace ?? "";
  switch (reason) {
    case "QdrantUnreachable": {
      const tls = UNTRUSTED_CERTIFICATE.exec(message);
      if (tls?.[1] === WRONG_NAME) {
        return `${prefix}spec.tls.serverName: Qdrant's certificate does not name the host it was reached at: ${message}; set spec.tls.serverName to a name in the certificate, or reach Qdrant by one`;
      }
      if (tls) {
        const ca = spec.tls?.caSecretRef;
        return ca
          ? `${prefix}spec.tls.caSecretRef: Qdrant's certificate is not trusted with the CA from Secret ${namespace}/${ca.name} key "${ca.key}": ${message}; put the CA that signs Qdrant's certificate there`
          : `${prefix}spec.tls.caSecretRef: Qdrant's certificate is not trusted by the system's CAs: ${message}; name the CA that signs it in spec.tls.caSecretRef`;
      }
      const field = spec.url !== undefined ? "spec.url" : "spec.service";
      const check = `and that Qdrant is running and reachable from ${opts.from}`;
      return opts.self ? `${field}: Qdrant did not answer: ${message}; check ${field} ${check}` : `${prefix.trimEnd()} did not answer: ${message}; check its ${field} ${check}`;
    }
    case "QdrantUnauthorized": {
      const keyRef = spec.apiKeySecretRef;
      return keyRef
        ? `${prefix}spec.apiKeySecretRef: Qdrant refused the API key from Secret ${namespace}/${keyRef.name} key "${keyRef.key}": ${message}; put Qdrant's API key there`
        : `${prefix}spec.apiKeySecretRef: none is set and Qdrant asks for an API key: ${message}; name the Secret key that holds it`;
    }
    case "QdrantError":
    case "QdrantNotFound":
      return opts.self ? message : `${prefix.trimEnd()}: ${message}`;
    default:
      return undefined;
  }
}
