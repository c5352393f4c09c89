/**
 * `kubectl qdrant status`: one screen for the namespace — each schedule with its last and next run and
 * the age of its last good backup, the restores and rollouts in progress, and everything failing (a
 * Failed backup, restore or rollout, and any of our objects whose Ready condition is False).
 */
import type { ScheduleObject, ScheduledBackupObject } from "../controllers/backup-schedule/types.ts";
import { COLLECTION_ROLLOUTS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../controllers/resources.ts";
import type { KubeObject, ResourceType } from "../runtime/resource.ts";
import { checkFlags, outputFormat, UsageError, type ParsedArgs } from "./args.ts";
import { call, connect, type Cluster } from "./kube.ts";
import { age, emit, readyProblem, table } from "./output.ts";

export const HELP = `One screen of the namespace's backups, restores and rollouts.

Usage:
  kubectl qdrant status [flags]

Schedules with their last and next run and the age of their last good backup; restores and rollouts in
progress; and everything failing (Failed backups, restores and rollouts, objects whose Ready is False).

Flags:
  -n, --namespace <ns>      namespace (default: the context's)
  -o, --output json|yaml    the same as data
      --kubeconfig <file>, --context <name>   as for kubectl
`;

interface AnyObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { phase?: string; conditions?: { type: string; status: string; reason?: string; message?: string }[]; failure?: { reason: string; message: string } } & Record<string, unknown>;
}

const FINISHED_RESTORE = new Set(["Succeeded", "Failed"]);
const FINISHED_ROLLOUT = new Set(["Promoted", "RolledBack", "Failed", "Aborted"]);

export async function status(args: ParsedArgs): Promise<void> {
  checkFlags(args, [], "status");
  if (args.words.length > 1) throw new UsageError("status takes no names; see kubectl qdrant status --help");
  const format = outputFormat(args);
  const cluster = connect(args);
  const [schedules, backups, restores, rollouts, connections, locations] = await Promise.all([
    list<ScheduleObject>(cluster, QDRANT_BACKUP_SCHEDULES),
    list<ScheduledBackupObject>(cluster, QDRANT_BACKUPS),
    list<AnyObject>(cluster, QDRANT_RESTORES),
    list<AnyObject>(cluster, COLLECTION_ROLLOUTS),
    list<AnyObject>(cluster, QDRANT_CONNECTIONS),
    list<AnyObject>(cluster, QDRANT_BACKUP_LOCATIONS),
  ]);
  const lastGood = newestSucceeded(backups);
  const data = {
    namespace: cluster.namespace,
    lastGoodBackup: lastGood ? { name: lastGood.metadata?.name ?? "", completionTime: lastGood.status?.completionTime ?? "", age: age(lastGood.status?.completionTime) } : null,
    schedules: schedules.map((s) => ({
      name: s.metadata?.name ?? "",
      schedule: s.spec.schedule,
      suspended: s.spec.suspend === true,
      lastRun: s.status?.lastScheduleTime ?? "",
      nextRun: s.status?.nextScheduleTime ?? "",
      lastSuccess: s.status?.lastSuccessfulTime ?? "",
      lastSuccessAge: age(s.status?.lastSuccessfulTime),
    })),
    restoresRunning: restores.filter((r) => !FINISHED_RESTORE.has(r.status?.phase ?? "")).map((r) => ({ name: r.metadata?.name ?? "", phase: r.status?.phase ?? "Pending", age: age(r.metadata?.creationTimestamp) })),
    rolloutsInProgress: rollouts.filter((r) => !FINISHED_ROLLOUT.has(r.status?.phase ?? "")).map((r) => ({ name: r.metadata?.name ?? "", phase: r.status?.phase ?? "Pending", alias: typeof r.spec?.alias === "string" ? r.spec.alias : "" })),
    failing: [...schedules, ...backups, ...restores, ...rollouts, ...connections, ...locations].flatMap((o) => problemOf(o)),
  };
  emit(format, data, () => screen(data));
}

function list<T extends KubeObject>(cluster: Cluster, rt: ResourceType): Promise<T[]> {
  return call("list", rt, cluster.namespace, undefined, () => cluster.client.list<T>(rt, cluster.namespace)).then((r) => r.items);
}

function newestSucceeded(backups: readonly ScheduledBackupObject[]): ScheduledBackupObject | undefined {
  let best: ScheduledBackupObject | undefined;
  for (const b of backups) {
    const t = b.status?.phase === "Succeeded" ? Date.parse(b.status.completionTime ?? "") : NaN;
    if (!Number.isNaN(t) && (best === undefined || t > Date.parse(best.status?.completionTime ?? ""))) best = b;
  }
  return best;
}

function problemOf(o: AnyObject): { kind: string; name: string; problem: string }[] {
  const kind = o.kind ?? "";
  const name = o.metadata?.name ?? "";
  if (o.status?.phase === "Failed") return [{ kind, name, problem: `Failed${o.status.failure ? `: ${o.status.failure.reason}: ${o.status.failure.message}` : readyProblem(o) ? `: ${readyProblem(o)}` : ""}` }];
  const p = readyProblem(o);
  return p ? [{ kind, name, problem: `not Ready: ${p}` }] : [];
}

type StatusData = {
  namespace: string;
  lastGoodBackup: { name: string; completionTime: string; age: string } | null;
  schedules: { name: string; schedule: string; suspended: boolean; lastRun: string; nextRun: string; lastSuccessAge: string }[];
  restoresRunning: { name: string; phase: string; age: string }[];
  rolloutsInProgress: { name: string; phase: string; alias: string }[];
  failing: { kind: string; name: string; problem: string }[];
};

function screen(d: StatusData): string {
  const parts = [`Namespace ${d.namespace}: last good backup ${d.lastGoodBackup ? `${d.lastGoodBackup.name}, ${d.lastGoodBackup.age} ago` : "none"}\n`];
  const section = (title: string, body: string) => parts.push(`\n${title}:\n${body || "  none\n"}`);
  section(
    "Schedules",
    table(["name", "schedule", "last run", "next run", "last success"], d.schedules.map((s) => ({ name: s.name, schedule: s.schedule + (s.suspended ? " (suspended)" : ""), "last run": s.lastRun, "next run": s.nextRun, "last success": s.lastSuccessAge ? `${s.lastSuccessAge} ago` : "" }))),
  );
  section("Restores running", table(["name", "phase", "age"], d.restoresRunning));
  section("Rollouts in progress", table(["name", "phase", "alias"], d.rolloutsInProgress));
  section("Failing", table(["kind", "name", "problem"], d.failing));
  return parts.join("");
}
