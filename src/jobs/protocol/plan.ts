/**
 * A Job's plan: JSON in one environment variable, with nothing secret in it (secrets reach the pod only
 * through secretKeyRef). Each kind of Job gives its plan as a TypeBox schema; this module checks a plan
 * against it on both sides: the controller before it creates the Job (a bad plan is a bug, found before
 * anything runs), the Job when it starts (the plan comes from our own controller, so a bad one is a bug
 * or a version skew between the manager and the Job's image; retrying cannot fix either, so every
 * problem is a permanent error naming the field, all of them at once).
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { OperatorError, type ErrorCode } from "../../errors.ts";
import { describeProblems, type SpecProblem } from "../../api/validate.ts";
import { checker } from "./schema-check.ts";

export interface PlanSchema<S extends TSchema> {
  /** The plan's schema; its `version` property, a literal, is what the manager and the image must agree on. */
  schema: S;
  /** The environment variable that carries the plan (e.g. BACKUP_PLAN). */
  env: string;
  /** The error a bad plan is (e.g. BACKUP_PLAN_INVALID); it should not be retryable. */
  code: ErrorCode;
  /**
   * What a schema cannot say (a regular expression that must compile, exactly one of three fields). Runs
   * on any JSON object, valid or not, so one failed Job names every problem: read fields defensively.
   */
  more?: (plan: Static<S>) => SpecProblem[];
}

/** Field names start here: "plan.qdrant.url: must match pattern …". */
export const PLAN_ROOT = "plan";

export interface PlanChecker<S extends TSchema> {
  /** Every problem of `value` as a plan; empty when it is one. */
  problems(value: unknown): SpecProblem[];
  /** `value` if it is a plan; else throws the plan's error naming every problem. */
  check(value: unknown): Static<S>;
  /** Parses the environment variable's text and checks it. */
  read(text: string | undefined): Static<S>;
}

export function planChecker<S extends TSchema>(def: PlanSchema<S>): PlanChecker<S> {
  const schemaCheck = checker(def.schema, PLAN_ROOT);
  const version = (def.schema as { properties?: { version?: { const?: unknown } } }).properties?.version?.const;
  const invalid = (message: string) => new OperatorError(def.code, message);
  const problems = (value: unknown): SpecProblem[] => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [{ field: PLAN_ROOT, message: "must be a JSON object" }];
    const got = (value as { version?: unknown }).version;
    const skew: SpecProblem[] =
      version !== undefined && got !== version ? [{ field: `${PLAN_ROOT}.version`, message: `must be ${JSON.stringify(version)} (got ${JSON.stringify(got)}): the Job's image and the manager disagree` }] : [];
    const found = schemaCheck.problems(value).filter((p) => skew.length === 0 || p.field !== `${PLAN_ROOT}.version`);
    return [...skew, ...found, ...(def.more?.(value) ?? [])];
  };
  const check = (value: unknown): Static<S> => {
    const found = problems(value);
    if (found.length > 0) throw invalid(`${def.env} is invalid: ${describeProblems(found)}`);
    return value;
  };
  return {
    problems,
    check,
    read(text) {
      if (text === undefined || text.trim() === "") throw invalid(`${def.env} is not set`);
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw invalid(`${def.env} is not JSON (${(err as Error).message})`);
      }
      return check(data);
    },
  };
}
