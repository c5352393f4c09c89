/** The e2e manager's refusals are found in its log by the apiserver's wording, and teardown is not one. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { forbiddenCalls } from "../helpers/operator-identity.ts";

const USER = "system:serviceaccount:qdrant-operator:qdrant-operator";
const line = (time: string, fields: Record<string, unknown>) => JSON.stringify({ level: "warn", time, ...fields });
const apiError = (message: string) => ({ err: { type: "ApiError", message, status: 403, reason: "Forbidden" } });

const log = [
  line("2026-12-01T22:32:24.682Z", {
    component: "event-recorder",
    ...apiError(`POST /apis/events.k8s.io/v1/namespaces/ns-1/events: HTTP 403: events.events.k8s.io is forbidden: User "${USER}" cannot create resource "events" in API group "events.k8s.io" in the namespace "ns-1"`),
  }),
  line("2026-12-01T22:32:25.000Z", {
    informer: "qdrantbackups.qdrant-operator.dev",
    ...apiError(`GET /apis/qdrant-operator.dev/v1alpha1/qdrantbackups: HTTP 403: qdrantbackups.qdrant-operator.dev is forbidden: User "${USER}" cannot list resource "qdrantbackups" in API group "qdrant-operator.dev" at the cluster scope`),
  }),
  line("2026-12-01T22:32:26.000Z", { informer: "jobs.batch", namespace: "ns-1", err: { message: "Forbidden", statusCode: 403 }, msg: "Watch failed; retrying from the last resourceVersion" }),
  line("2026-12-01T22:32:27.000Z", {
    controller: "qdrantbackups",
    ...apiError(`PATCH /api/v1/namespaces/ns-1/secrets/x: HTTP 403: secrets "x" is forbidden: User "${USER}" cannot patch resource "secrets" in the namespace "ns-1"`),
  }),
  // Qdrant and S3 refuse with 403 too; tests provoke those on purpose.
  line("2026-12-01T22:32:28.000Z", { controller: "qdrantconnections", err: { message: "GET /collections: HTTP 403: Forbidden: invalid api key" } }),
  line("2026-12-01T22:32:28.000Z", { controller: "qdrantbackuplocations", err: { message: "AccessDenied: Access Denied.", $metadata: { httpStatusCode: 403 } } }),
  "    at RestClient.send (file:///work/main/src/runtime/rest-client.ts:206:69)",
].join("\n");

test("the apiserver's RBAC refusals are found, named by verb, resource, group and namespace; Qdrant's and S3's 403s are not", () => {
  assert.deepEqual(forbiddenCalls(log), [
    "create events in API group events.k8s.io (namespace ns-1)",
    "list qdrantbackups in API group qdrant-operator.dev (cluster-wide)",
    "watch jobs.batch (namespace ns-1)",
    "patch secrets in the core group (namespace ns-1)",
  ]);
  assert.deepEqual(forbiddenCalls(""), []);
});

test("a refusal in a namespace logged once its deletion began is teardown, not a missing permission", () => {
  const tornDown = (ns: string) => (ns === "ns-1" ? Date.parse("2026-12-01T22:32:26.000Z") : undefined);
  assert.deepEqual(forbiddenCalls(log, tornDown), ["create events in API group events.k8s.io (namespace ns-1)", "list qdrantbackups in API group qdrant-operator.dev (cluster-wide)"]);
});
