/**
 * The operator's own identity for tests: the committed deploy/rbac/ objects applied as a user would apply
 * them (deploy/rbac/operator/ once, deploy/rbac/namespace/ in each watched namespace), and a kubeconfig
 * holding a token of the manager's ServiceAccount, minted through the TokenRequest API with the admin
 * client. A manager started with it can do exactly what the generated RBAC grants, so a call nobody
 * declared fails the test (see {@link forbiddenCalls}) instead of passing as cluster admin.
 *
 * Every test file binds the same ServiceAccount (qdrant-operator/qdrant-operator), each in its own
 * namespaces; Roles are namespaced, so parallel files never widen each other's rights. No test binds it
 * cluster-wide for that reason.
 */
import { readFile, writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { DEFAULT_NAMES } from "../../src/rbac/manifests.ts";
import { RBAC_DIR } from "../../src/rbac/generate.ts";
import { isAlreadyExists } from "../../src/runtime/errors.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { resourcePath, type KubeObject, type ResourceType } from "../../src/runtime/resource.ts";
import { eventually, kubeAccess, kubeConfig } from "./testenv.ts";

export const OPERATOR_NAMESPACE = DEFAULT_NAMES.operatorNamespace;
export const MANAGER_SERVICE_ACCOUNT = DEFAULT_NAMES.manager;
/** The manager's username as the apiserver's authorizers see it. */
export const MANAGER_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${MANAGER_SERVICE_ACCOUNT}`;

const KINDS: Record<string, ResourceType> = {
  Namespace: { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false },
  ServiceAccount: { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
  Role: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true },
  RoleBinding: { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true },
  ClusterRole: { group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterroles", kind: "ClusterRole", namespaced: false },
  ClusterRoleBinding: { group: "rbac.authorization.k8s.io", version: "v1", plural: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
};

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const admin = () => new RestClient(kubeAccess());

/** The objects of one deploy/rbac/ folder, in its kustomization's order (folders it includes left out). */
export async function deployObjects(folder: "operator" | "namespace" | "cluster-wide"): Promise<KubeObject[]> {
  const dir = join(RBAC_DIR, folder);
  const { resources } = parse(await readFile(join(dir, "kustomization.yaml"), "utf8")) as { resources: string[] };
  const objects: KubeObject[] = [];
  for (const file of resources.filter((r) => r.endsWith(".yaml"))) objects.push(parse(await readFile(join(dir, file), "utf8")) as KubeObject);
  return objects;
}

/** Server-side apply as the admin, into `namespace` when the object names none (as `kubectl apply -n` does). */
export async function applyAsAdmin(objects: KubeObject[], namespace?: string): Promise<void> {
  const client = admin();
  for (const obj of objects) {
    const rt = KINDS[obj.kind ?? ""];
    if (!rt) throw new Error(`applyAsAdmin: no resource type known for kind ${obj.kind ?? "?"}`);
    const ns = rt.namespaced ? (obj.metadata?.namespace ?? namespace) : undefined;
    if (rt.namespaced && !ns) throw new Error(`${obj.kind} ${obj.metadata?.name ?? ""} names no namespace and none was given`);
    const body = { ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } };
    await client.request("PATCH", resourcePath(rt, ns, obj.metadata?.name), { body, contentType: "application/apply-patch+yaml", query: { fieldManager: "qdrant-operator-tests", force: true } });
  }
}

async function ensureOperatorNamespace(): Promise<void> {
  await admin()
    .request("POST", resourcePath(KINDS.Namespace!), { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: OPERATOR_NAMESPACE } } })
    .catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
}

/**
 * A kubeconfig for `serviceAccount` (the manager's by default) with a freshly minted token, for the
 * cluster the admin kubeconfig points at.
 */
export async function serviceAccountKubeconfig(namespace = OPERATOR_NAMESPACE, serviceAccount = MANAGER_SERVICE_ACCOUNT): Promise<string> {
  const review = await admin().request<{ status?: { token?: string } }>("POST", `${resourcePath(KINDS.ServiceAccount!, namespace, serviceAccount)}/token`, {
    // Four hours: longer than any test file runs, so a manager never outlives its token.
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 4 * 3600 } },
  });
  const token = review.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  const cluster = kubeConfig().getCurrentCluster();
  if (!cluster) throw new Error("the admin kubeconfig has no current cluster");
  const clusterEntry: Record<string, unknown> = { server: cluster.server };
  if (cluster.caData) clusterEntry["certificate-authority-data"] = cluster.caData;
  else if (cluster.caFile) clusterEntry["certificate-authority"] = cluster.caFile;
  if (cluster.skipTLSVerify) clusterEntry["insecure-skip-tls-verify"] = true;
  const user = `system:serviceaccount:${namespace}:${serviceAccount}`;
  const path = join(await mkdtemp(join(tmpdir(), "qdrant-operator-sa-kubeconfig-")), "kubeconfig.yaml");
  await writeFile(
    path,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "cluster", cluster: clusterEntry }],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: user, context: { cluster: "cluster", user, namespace } }],
      "current-context": user,
    }),
    { mode: 0o600 },
  );
  return path;
}

export interface AccessQuery {
  verb: string;
  group: string;
  /** The plural, with "/subresource" if any. */
  resource: string;
  /** Omitted: every namespace (a cluster-wide list or watch). */
  namespace?: string;
  name?: string;
}

/** Whether the kubeconfig's identity may do `q`, as the apiserver's authorizers answer it (SelfSubjectAccessReview). */
export async function can(kubeconfigPath: string, q: AccessQuery): Promise<boolean> {
  const [resource, subresource] = q.resource.split("/");
  const review = await new RestClient(kubeAccess(kubeconfigPath)).request<{ status?: { allowed?: boolean } }>("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb: q.verb, group: q.group, resource, ...(subresource ? { subresource } : {}), ...(q.namespace ? { namespace: q.namespace } : {}), ...(q.name ? { name: q.name } : {}) } },
    },
  });
  return review.status?.allowed === true;
}

/** Each (verb, resource) a role grants, as queries in `namespace`. */
export function grantsOf(role: KubeObject, namespace?: string): AccessQuery[] {
  const rules = (role as { rules?: Rule[] }).rules ?? [];
  return rules.flatMap((r) => r.apiGroups.flatMap((group) => r.resources.flatMap((resource) => r.verbs.map((verb) => ({ verb, group, resource, ...(namespace ? { namespace } : {}) })))));
}

/**
 * Waits until every grant of `roles` is in effect for the kubeconfig's identity: the authorizer follows
 * Roles and bindings through watches, so a manager started the moment they are applied could be refused
 * its first list, and that refusal must mean a missing declaration, never a race.
 */
async function waitForGrants(kubeconfigPath: string, roles: Array<{ role: KubeObject; namespace?: string }>): Promise<void> {
  const queries = roles.flatMap(({ role, namespace }) => grantsOf(role, namespace));
  await eventually("the manager's RBAC to take effect", async () => {
    const denied = (await Promise.all(queries.map(async (q) => ((await can(kubeconfigPath, q)) ? undefined : q)))).filter((q) => q !== undefined);
    if (denied.length > 0) throw new Error(`still denied: ${denied.map((q) => `${q.verb} ${q.resource} in ${q.namespace ?? "*"}`).join(", ")}`);
    return true;
  });
}

/**
 * Applies the generated RBAC for a manager watching `namespaces` and returns a kubeconfig with the
 * manager's identity, once every granted permission is in effect.
 */
export async function managerIdentity(namespaces: readonly string[]): Promise<string> {
  if (namespaces.length === 0) throw new Error("managerIdentity: a manager under the per-namespace RBAC watches a list of namespaces");
  await ensureOperatorNamespace();
  const operator = await deployObjects("operator");
  await applyAsAdmin(operator, OPERATOR_NAMESPACE);
  const watched = await deployObjects("namespace");
  for (const ns of namespaces) await applyAsAdmin(watched, ns);
  const kubeconfigPath = await serviceAccountKubeconfig();
  const roles = [
    ...operator.filter((o) => o.kind === "Role").map((role) => ({ role, namespace: OPERATOR_NAMESPACE })),
    ...namespaces.flatMap((namespace) => watched.filter((o) => o.kind === "Role").map((role) => ({ role, namespace }))),
  ];
  await waitForGrants(kubeconfigPath, roles);
  return kubeconfigPath;
}

/**
 * The apiserver's RBAC refusals in a manager's log, one line each ("patch qdrantbackups/status in API
 * group qdrant-operator.dev (namespace ns)"). Only the apiserver's own wording counts (`… cannot <verb>
 * resource …`, or a watch refused with 403): Qdrant and S3 answer 403 too, and tests provoke those on
 * purpose. `tornDownAt(namespace)` says since when a namespace is being deleted (its RoleBinding with
 * it): a refusal there logged after that is the test's teardown, not a missing permission.
 */
export function forbiddenCalls(log: string, tornDownAt: (namespace: string) => number | undefined = () => undefined): string[] {
  const found = new Set<string>();
  const afterTeardown = (namespace: string | undefined, time: number | undefined) => {
    const since = namespace === undefined ? undefined : tornDownAt(namespace);
    return since !== undefined && (time === undefined || time >= since);
  };
  for (const line of log.split("\n")) {
    let time: number | undefined;
    try {
      const logged = (JSON.parse(line) as { time?: string | number }).time;
      time = logged === undefined ? undefined : new Date(logged).getTime();
    } catch {
      // not a log record (a stack trace on stderr): no time
    }
    const text = line.replaceAll('\\"', '"');
    for (const m of text.matchAll(/cannot (\w+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]*)")?/g)) {
      if (afterTeardown(m[4], time)) continue;
      found.add(`${m[1]} ${m[2]}${m[3] ? ` in API group ${m[3]}` : " in the core group"}${m[4] ? ` (namespace ${m[4]})` : " (cluster-wide)"}`);
    }
    if (text.includes("Watch failed") && /"statusCode":403/.test(text)) {
      const informer = /"informer":"([^"]+)"/.exec(text)?.[1];
      const namespace = /"namespace":"([^"]+)"/.exec(text)?.[1];
      if (afterTeardown(namespace, time)) continue;
      found.add(`watch ${informer ?? "(a resource: see the log)"}${namespace ? ` (namespace ${namespace})` : " (cluster-wide)"}`);
    }
  }
  return [...found];
}

/** What to tell the engineer whose test's manager was refused. */
export function forbiddenMessage(calls: string[], logPath: string): string {
  return (
    `the manager (${MANAGER_USER}, under the generated RBAC) was refused by the apiserver:\n${calls.map((c) => `  - ${c}`).join("\n")}\n` +
    `declare each in the rbac.ts beside the code that makes the call (src/controllers/<controller>/rbac.ts, or src/manager/rbac.ts), ` +
    `run \`npm run generate\` and commit deploy/rbac/. Manager log: ${logPath}`
  );
}
