/**
 * The backup Job's plan checker (src/jobs/protocol/plan.ts with the BackupJobPlan schema): the controller
 * runs it on the plan it builds, the Job on the plan it reads. A bad plan is a permanent
 * InvalidBackupPlan naming every field. Beyond the schema: the backup id's shape, exactly one collection
 * selector, a pattern that compiles, Static peers that are listed, and a namespace and connection that
 * make a valid key prefix.
 */
import type { SpecProblem } from "../../api/validate.ts";
import { isBackupId } from "../../backup/layout/backup-id.ts";
import { connectionPrefix } from "../../backup/layout/object-keys.ts";
import { PLAN_ROOT, planChecker } from "../protocol/plan.ts";
import { BACKUP_ENV, BackupJobPlan } from "./contract.ts";

export const backupPlan = planChecker({ schema: BackupJobPlan, env: BACKUP_ENV.plan, code: "BACKUP_PLAN_INVALID", more: backupPlanProblems });

/** Reads BACKUP_PLAN; throws InvalidBackupPlan naming every problem. */
export function parsePlan(text: string | undefined): BackupJobPlan {
  return backupPlan.read(text);
}

const at = (field: string, message: string): SpecProblem => ({ field: `${PLAN_ROOT}.${field}`, message });
const isStr = (v: unknown): v is string => typeof v === "string" && v !== "";

/** What the schema cannot say; runs on any object (read defensively). */
function backupPlanProblems(plan: BackupJobPlan): SpecProblem[] {
  const out: SpecProblem[] = [];
  if (isStr(plan.backupId) && !isBackupId(plan.backupId)) out.push(at("backupId", `${JSON.stringify(plan.backupId)} is not a backup id`));
  if (plan.mode === "Collection") out.push(...collectionProblems(plan.collections));
  const d = plan.qdrant?.discovery;
  if (d?.mode === "Static" && (!Array.isArray(d.urls) || d.urls.length === 0)) out.push(at("qdrant.discovery.urls", "must list the peers' http(s) URLs in Static mode"));
  const src = plan.source;
  if (isStr(src?.namespace) && isStr(src?.connection)) {
    try {
      connectionPrefix({ namespace: src.namespace, connection: src.connection, ...(typeof plan.s3?.prefix === "string" ? { prefix: plan.s3.prefix } : {}) });
    } catch (err) {
      out.push({ field: `${PLAN_ROOT}.source`, message: (err as Error).message });
    }
  }
  return out;
}

function collectionProblems(c: BackupJobPlan["collections"]): SpecProblem[] {
  if (typeof c !== "object" || c === null) return [at("collections", "is required in mode Collection")];
  const given = [c.names !== undefined, c.all !== undefined, c.pattern !== undefined].filter(Boolean).length;
  if (given !== 1) return [at("collections", "must have exactly one of names, all, pattern")];
  if (isStr(c.pattern)) {
    try {
      new RegExp(c.pattern, "u");
    } catch (err) {
      return [at("collections.pattern", `is not a regular expression: ${(err as Error).message}`)];
    }
  }
  return [];
}
