/**
 * What a piece of the operator needs from the apiserver, declared next to that code (each controller's
 * `rbac.ts`, the manager's in src/manager/rbac.ts) so that a reviewer reads the rights beside the calls
 * that use them, and `npm run generate` turns their union into deploy/rbac/. When a test's manager is
 * refused (HTTP 403), the fix is one `allow(…)` line in the rbac.ts of the code that made the call.
 */
import type { ResourceType } from "../runtime/resource.ts";

/** The verbs the operator may be granted; a wildcard never is. In the order the generated rules list them. */
export const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"] as const;
export type Verb = (typeof VERBS)[number];

/**
 * Where a permission holds:
 * - `watched`: in every namespace the manager watches: a ClusterRole when it watches all of them, a Role in
 *   each one when it watches a list (`--namespaces`);
 * - `operator`: only in the manager's own namespace (its leader-election Lease).
 */
export type PermissionScope = "watched" | "operator";

export interface Permission {
  /** API group, "" for the core group. */
  group: string;
  /** The plural as RBAC names it, with "/<subresource>" for a subresource ("qdrantbackups/status"). */
  resource: string;
  verbs: readonly Verb[];
  scope: PermissionScope;
  /** Why the code needs it; the generated rules carry it as a comment. */
  why: string;
}

/** The permissions of one piece of the operator (a controller, the manager), named for the generated comments. */
export interface PermissionSet {
  /** "backup", "manager": the folder under src/controllers/, or the manager. */
  owner: string;
  permissions: readonly Permission[];
}

/**
 * One permission: `allow(JOBS, ["create"], "creates the backup's Job")`. `subresource` names e.g. "status";
 * `scope` defaults to `watched`.
 */
export function allow(rt: Pick<ResourceType, "group" | "plural">, verbs: readonly Verb[], why: string, opts: { subresource?: string; scope?: PermissionScope } = {}): Permission {
  if (verbs.length === 0) throw new Error(`allow(${rt.plural}): no verbs`);
  return { group: rt.group, resource: opts.subresource ? `${rt.plural}/${opts.subresource}` : rt.plural, verbs, scope: opts.scope ?? "watched", why };
}
