/**
 * The one wording of a connection's failures (src/controllers/shared/explain-connection.ts), as the
 * connection's own condition (`self`) and a failed backup (prefixed with the connection) show it: each
 * names the field to fix.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { QdrantConnectionSpec } from "../../../src/api/v1alpha1/qdrant-connection.ts";
import { explainConnectionFailure } from "../../../src/controllers/shared/explain-connection.ts";
import type { QdrantConnectionObject } from "../../../src/controllers/shared/resolve-connection.ts";

const connection = (spec: Partial<QdrantConnectionSpec>): QdrantConnectionObject => ({ metadata: { name: "qdrant", namespace: "prod" }, spec: { url: "https://q:6333", ...spec } });
const key = { apiKeySecretRef: { name: "qdrant-key", key: "api-key" } };

test("each failure names its field, for the connection itself and for a backup", () => {
  const cases: Array<[string, string, string, Partial<QdrantConnectionSpec>, boolean, string | undefined]> = [
    ["unreachable url", "QdrantUnreachable", "GET http://127.0.0.1:1/: fetch failed: bad port", {}, true, "spec.url: Qdrant did not answer: GET http://127.0.0.1:1/: fetch failed: bad port; check spec.url and that Qdrant is running and reachable from the manager"],
    ["unreachable url, from a backup", "QdrantUnreachable", "GET x: ECONNREFUSED", {}, false, "QdrantConnection qdrant did not answer: GET x: ECONNREFUSED; check its spec.url and that Qdrant is running and reachable from the manager"],
    ["unreachable service", "QdrantUnreachable", "GET x: ENOTFOUND", { url: undefined, service: { name: "qdrant" } }, true, "spec.service: Qdrant did not answer: GET x: ENOTFOUND; check spec.service and that Qdrant is running and reachable from the manager"],
    ["refused key", "QdrantUnauthorized", "GET x: 401 Invalid API key", key, true, 'spec.apiKeySecretRef: Qdrant refused the API key from Secret prod/qdrant-key key "api-key": GET x: 401 Invalid API key; put Qdrant\'s API key there'],
    ["no key", "QdrantUnauthorized", "GET x: 401 Must provide an API key", {}, false, "QdrantConnection qdrant spec.apiKeySecretRef: none is set and Qdrant asks for an API key: GET x: 401 Must provide an API key; name the Secret key that holds it"],
    ["untrusted, no CA", "QdrantUnreachable", "GET x: UNABLE_TO_VERIFY_LEAF_SIGNATURE (unable to verify the first certificate)", {}, true, "spec.tls.caSecretRef: Qdrant's certificate is not trusted by the system's CAs: GET x: UNABLE_TO_VERIFY_LEAF_SIGNATURE (unable to verify the first certificate); name the CA that signs it in spec.tls.caSecretRef"],
    ["untrusted with a CA", "QdrantUnreachable", "GET x: SELF_SIGNED_CERT_IN_CHAIN", { tls: { caSecretRef: { name: "ca", key: "ca.crt" } } }, false, 'QdrantConnection qdrant spec.tls.caSecretRef: Qdrant\'s certificate is not trusted with the CA from Secret prod/ca key "ca.crt": GET x: SELF_SIGNED_CERT_IN_CHAIN; put the CA that signs Qdrant\'s certificate there'],
    ["wrong name", "QdrantUnreachable", "GET x: ERR_TLS_CERT_ALTNAME_INVALID (Hostname/IP does not match)", {}, true, "spec.tls.serverName: Qdrant's certificate does not name the host it was reached at: GET x: ERR_TLS_CERT_ALTNAME_INVALID (Hostname/IP does not match); set spec.tls.serverName to a name in the certificate, or reach Qdrant by one"],
    ["Qdrant's own error", "QdrantError", "GET x: 500 boom", {}, false, "QdrantConnection qdrant: GET x: 500 boom"],
    ["not the connection's", "BucketNotFound", "spec.s3.bucket: …", {}, false, undefined],
  ];
  for (const [name, reason, message, spec, self, want] of cases) {
    assert.equal(explainConnectionFailure(reason, message, connection(spec), { self, from: "the manager" }), want, name);
  }
});
