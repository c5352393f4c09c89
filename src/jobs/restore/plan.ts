/**
 * The restore Job's plan checker (src/jobs/protocol/plan.ts with the RestoreJobPlan schema): the
 * controller runs it on the plan it builds, the Job on the plan it reads. A bad plan is a permanent
 * InvalidRestorePlan naming every field. Beyond the schema: the backup id's shape, collection names
 * Qdrant accepts (and never `.` or `..`), one file per source peer and per key, at least one file with
 * data, FullStorage only by Upload (Qdrant cannot pull one collection out of a peer's archive), no
 * compressed or encrypted object by Pull
 * (Qdrant recovers a URL's bytes as they are: only the Job can decompress and decrypt, while it streams
 * them by Upload), the stored size and SHA-256 of every such object (what the Job checks the bytes it
 * reads against), and Static peers that are listed.
 */
import type { SpecProblem } from "../../api/validate.ts";
import { compileSchema } from "../../api/validate.ts";
import { CollectionName } from "../../api/schema-helpers.ts";
import { isBackupId } from "../../backup/layout/backup-id.ts";
import { PLAN_ROOT, planChecker } from "../protocol/plan.ts";
import { RESTORE_ENV, RestoreJobPlan } from "./contract.ts";

export const restorePlan = planChecker({ schema: RestoreJobPlan, env: RESTORE_ENV.plan, code: "RESTORE_PLAN_INVALID", more: restorePlanProblems });

/** Reads RESTORE_PLAN; throws InvalidRestorePlan naming every problem. */
export function parseRestorePlan(text: string | undefined): RestoreJobPlan {
  return restorePlan.read(text);
}

const at = (field: string, message: string): SpecProblem => ({ field: `${PLAN_ROOT}.${field}`, message });
const isStr = (v: unknown): v is string => typeof v === "string" && v !== "";
let collectionName: ReturnType<typeof compileSchema> | undefined;
const isCollectionName = (v: string): boolean => (collectionName ??= compileSchema(CollectionName("a collection")))(v) === true;

/** What the schema cannot say; runs on any object (read defensively). */
function restorePlanProblems(plan: RestoreJobPlan): SpecProblem[] {
  const out: SpecProblem[] = [];
  if (isStr(plan.backupId) && !isBackupId(plan.backupId)) out.push(at("backupId", `${JSON.stringify(plan.backupId)} is not a backup id`));
  for (const field of ["sourceCollection", "targetCollection"] as const) {
    const v = plan[field];
    if (isStr(v) && !isCollectionName(v)) out.push(at(field, `${JSON.stringify(v)} is not a collection name Qdrant accepts (1 to 255 characters, none of < > : " / \\ | ? * or a control character, not "." or "..")`));
  }
  if (plan.mode === "FullStorage" && plan.method === "Pull") {
    out.push(at("method", "a FullStorage backup restores only by Upload: the Job takes the collection's snapshot out of each peer's archive, which Qdrant cannot do from a URL"));
  }
  if (Array.isArray(plan.files)) out.push(...fileProblems(plan.files, plan.method));
  const d = plan.qdrant?.discovery;
  if (d?.mode === "Static" && (!Array.isArray(d.urls) || d.urls.length === 0)) out.push(at("qdrant.discovery.urls", "must list the peers' http(s) URLs in Static mode"));
  return out;
}

function fileProblems(files: RestoreJobPlan["files"], method: RestoreJobPlan["method"]): SpecProblem[] {
  const out: SpecProblem[] = [];
  const peers = new Map<string, number>();
  const keys = new Map<string, number>();
  let withData = 0;
  files.forEach((f, i) => {
    if (typeof f !== "object" || f === null) return;
    if (isStr(f.sourcePeerId)) {
      const first = peers.get(f.sourcePeerId);
      if (first !== undefined) out.push(at(`files[${i}].sourcePeerId`, `${JSON.stringify(f.sourcePeerId)} is also files[${first}]'s: one file per source peer`));
      else peers.set(f.sourcePeerId, i);
    }
    if (isStr(f.key)) {
      const first = keys.get(f.key);
      if (first !== undefined) out.push(at(`files[${i}].key`, `is also files[${first}]'s`));
      else keys.set(f.key, i);
    }
    if (Array.isArray(f.shardIds) && f.shardIds.length > 0) withData++;
    if (f.compression !== undefined || f.encryption !== undefined) {
      if (method === "Pull") out.push(at(`files[${i}]`, "is compressed or encrypted, which Qdrant cannot read from a URL: such a backup restores only by Upload (the Job decodes while it streams)"));
      if (f.stored === undefined) out.push(at(`files[${i}].stored`, "is required when the file is compressed or encrypted: the Job checks the object's own bytes against it"));
    }
  });
  if (files.length > 0 && withData === 0) out.push(at("files", "no file holds a shard: there is nothing to restore"));
  return out;
}
