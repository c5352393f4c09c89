/**
 * Turns the declared permissions into RBAC objects: the rules one scope needs (the union of every
 * declaration, one rule per resource), and the objects of both ways to install the operator:
 *
 * - the operator's namespace: the manager's ServiceAccount and a Role + RoleBinding for its Lease;
 * - cluster-wide watch: a ClusterRole with every `watched` rule and a ClusterRoleBinding;
 * - per-namespace watch (`--namespaces`): a Role and a RoleBinding to apply in each watched namespace, and
 *   the Jobs' ServiceAccount, which has no rights at all (the Job pods run without a token:
 *   automountServiceAccountToken is false on the ServiceAccount and on the pods).
 *
 * {@link checkPermissions} refuses what the operator must never hold, whoever declares it.
 */
import type { KubeObject } from "../runtime/resource.ts";
import { VERBS, type Permission, type PermissionScope, type PermissionSet, type Verb } from "./permission.ts";

export interface RbacNames {
  /** Where the manager runs: its ServiceAccount and its Lease. */
  operatorNamespace: string;
  /** The manager's ServiceAccount; also the name of its Role, ClusterRole and bindings. */
  manager: string;
  /** The ServiceAccount the Jobs may name (`spec.job.serviceAccountName`); it has no rights. */
  job: string;
}

export const DEFAULT_NAMES: RbacNames = { operatorNamespace: "qdrant-operator", manager: "qdrant-operator", job: "qdrant-operator-job" };

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: Verb[];
}

/** A rule and why it is there: one line per declaration it merges ("backup: its informer (list, watch)"). */
export interface ExplainedRule {
  rule: PolicyRule;
  why: string[];
}

/** A Role or ClusterRole with the reasons of its rules, in the same order, for the generated comments. */
export interface ExplainedRole {
  role: KubeObject & { rules: PolicyRule[] };
  why: string[][];
}

/**
 * What no declaration may ask for. Secrets hold every credential of every team in a watched namespace:
 * the operator reads the one key a resource names (`get`), and listing or watching would hand it all of
 * them. Pods are made by the job controller from the operator's Jobs, and RBAC objects are the cluster
 * admin's: writing either would let the operator run or grant more than it was given.
 */
const FORBIDDEN: Array<{ group: string; resource: RegExp; verbs: readonly Verb[]; because: string }> = [
  { group: "", resource: /^secrets(\/.*)?$/, verbs: ["list", "watch", "create", "update", "patch", "delete"], because: "the operator only gets the Secret a resource names" },
  { group: "", resource: /^pods(\/.*)?$/, verbs: ["create", "update", "patch", "delete"], because: "the operator's pods are its Jobs', made by the job controller" },
  { group: "rbac.authorization.k8s.io", resource: /.*/, verbs: VERBS, because: "the operator grants nothing" },
];

/** Throws naming each declaration that asks for something the operator must not have. */
export function checkPermissions(sets: readonly PermissionSet[]): void {
  const problems: string[] = [];
  for (const set of sets) {
    for (const p of set.permissions) {
      if (p.resource.includes("*") || p.group === "*") problems.push(`${set.owner}: ${p.group}/${p.resource}: wildcards are never granted`);
      for (const f of FORBIDDEN) {
        const bad = p.verbs.filter((v) => f.verbs.includes(v));
        if (p.group === f.group && f.resource.test(p.resource) && bad.length > 0) problems.push(`${set.owner}: may not ${bad.join(", ")} ${p.resource}: ${f.because}`);
      }
    }
  }
  if (problems.length > 0) throw new Error(`forbidden permissions declared:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The rules of one scope: one per resource, verbs merged in {@link VERBS} order, sorted by group and resource. */
export function rulesFor(sets: readonly PermissionSet[], scope: PermissionScope): ExplainedRule[] {
  checkPermissions(sets);
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<Verb>; why: string[] }>();
  for (const set of sets) {
    for (const p of set.permissions.filter((x: Permission) => x.scope === scope)) {
      const key = `${p.group}\u0000${p.resource}`;
      let entry = byResource.get(key);
      if (!entry) byResource.set(key, (entry = { group: p.group, resource: p.resource, verbs: new Set(), why: [] }));
      for (const v of p.verbs) entry.verbs.add(v);
      entry.why.push(`${set.owner}: ${p.why} (${p.verbs.join(", ")})`);
    }
  }
  return [...byResource.values()]
    // Code-point order, not the locale's: the files must come out the same on every machine.
    .sort((a, b) => (a.group === b.group ? compare(a.resource, b.resource) : compare(a.group, b.group)))
    .map((e) => ({ rule: { apiGroups: [e.group], resources: [e.resource], verbs: VERBS.filter((v) => e.verbs.has(v)) }, why: e.why }));
}

const RBAC_API = "rbac.authorization.k8s.io/v1";

function role(kind: "Role" | "ClusterRole", metadata: Record<string, string>, rules: ExplainedRule[]): ExplainedRole {
  return { role: { apiVersion: RBAC_API, kind, metadata, rules: rules.map((r) => r.rule) }, why: rules.map((r) => r.why) };
}

function managerSubject(names: RbacNames) {
  return [{ kind: "ServiceAccount", name: names.manager, namespace: names.operatorNamespace }];
}

/** The operator's own namespace: what every installation needs. */
export function operatorNamespaceObjects(sets: readonly PermissionSet[], names: RbacNames = DEFAULT_NAMES) {
  const ns = names.operatorNamespace;
  const leName = `${names.manager}-leader-election`;
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: names.manager, namespace: ns } },
    role: role("Role", { name: leName, namespace: ns }, rulesFor(sets, "operator")),
    roleBinding: { apiVersion: RBAC_API, kind: "RoleBinding", metadata: { name: leName, namespace: ns }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: leName }, subjects: managerSubject(names) },
  };
}

/** Cluster-wide watch. */
export function clusterWideObjects(sets: readonly PermissionSet[], names: RbacNames = DEFAULT_NAMES) {
  return {
    clusterRole: role("ClusterRole", { name: names.manager }, rulesFor(sets, "watched")),
    clusterRoleBinding: {
      apiVersion: RBAC_API,
      kind: "ClusterRoleBinding",
      metadata: { name: names.manager },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: names.manager },
      subjects: managerSubject(names),
    },
  };
}

/** One watched namespace: without metadata.namespace, so they land in the namespace they are applied to. */
export function watchedNamespaceObjects(sets: readonly PermissionSet[], names: RbacNames = DEFAULT_NAMES) {
  return {
    role: role("Role", { name: names.manager }, rulesFor(sets, "watched")),
    roleBinding: { apiVersion: RBAC_API, kind: "RoleBinding", metadata: { name: names.manager }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: names.manager }, subjects: managerSubject(names) },
    jobServiceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: names.job }, automountServiceAccountToken: false },
  };
}
