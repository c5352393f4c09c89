/**
 * What the manager process itself needs, whatever its controllers do: its leader-election Lease (read,
 * created once, renewed by update; only in its own namespace) and Events (run.ts's one EventRecorder
 * creates them beside the object they regard, and patches a repeated one's series). What each controller
 * needs is in its own folder's rbac.ts.
 */
import { allow, type PermissionSet } from "../rbac/permission.ts";

export const RBAC: PermissionSet = {
  owner: "manager",
  permissions: [
    allow({ group: "coordination.k8s.io", plural: "leases" }, ["get", "create", "update"], "leader election: reads, takes and renews its Lease", { scope: "operator" }),
    allow({ group: "events.k8s.io", plural: "events" }, ["create", "patch"], "records Events, and patches the series of a repeated one"),
  ],
};
