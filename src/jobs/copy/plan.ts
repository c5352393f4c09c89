/**
 * The copy Job's plan checker (src/jobs/protocol/plan.ts with the CopyJobPlan schema): the controller runs
 * it on the plan it builds (src/controllers/rollout/build-copy-job.ts), the Job on the plan it reads. A bad
 * plan is a permanent InvalidCopyPlan naming every field. Beyond the schema: collection names Qdrant
 * accepts (never `.` or `..`), a source that is not the target (a copy into itself would rewrite every
 * point and call it a rollout), and a string point id that is a UUID (Qdrant's only other id form).
 */
import type { SpecProblem } from "../../api/validate.ts";
import { compileSchema } from "../../api/validate.ts";
import { CollectionName } from "../../api/schema-helpers.ts";
import { PLAN_ROOT, planChecker } from "../protocol/plan.ts";
import { COPY_ENV, CopyJobPlan } from "./contract.ts";

export const copyPlan = planChecker({ schema: CopyJobPlan, env: COPY_ENV.plan, code: "COPY_PLAN_INVALID", more: copyPlanProblems });

/** Reads COPY_PLAN; throws InvalidCopyPlan naming every problem. */
export function parseCopyPlan(text: string | undefined): CopyJobPlan {
  return copyPlan.read(text);
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const at = (field: string, message: string): SpecProblem => ({ field: `${PLAN_ROOT}.${field}`, message });
const isStr = (v: unknown): v is string => typeof v === "string" && v !== "";
let collectionName: ReturnType<typeof compileSchema> | undefined;
const isCollectionName = (v: string): boolean => (collectionName ??= compileSchema(CollectionName("a collection")))(v) === true;

/** What the schema cannot say; runs on any object (read defensively). */
function copyPlanProblems(plan: CopyJobPlan): SpecProblem[] {
  const out: SpecProblem[] = [];
  for (const field of ["source", "target"] as const) {
    const v = plan[field];
    if (isStr(v) && !isCollectionName(v)) out.push(at(field, `${JSON.stringify(v)} is not a collection name Qdrant accepts (1 to 255 characters, none of < > : " / \\ | ? * or a control character, not "." or "..")`));
  }
  if (isStr(plan.source) && plan.source === plan.target) out.push(at("target", `is the source collection ${JSON.stringify(plan.source)}: a copy goes into another collection`));
  if (typeof plan.resumeFrom === "string" && !UUID.test(plan.resumeFrom)) out.push(at("resumeFrom", `${JSON.stringify(plan.resumeFrom)} is not a point id (an unsigned integer or a UUID)`));
  return out;
}
