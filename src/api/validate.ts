/**
 * Validates a stored object's spec against the same schema the CRD carries. The apiserver already did so
 * on write, but objects written before a schema change, or by a client that bypassed validation, reach
 * the controller too: it reports an InvalidSpec condition naming the field instead of crashing on them.
 * CEL rules are the apiserver's alone; ajv checks types, patterns, ranges and enums.
 */
import type { TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { plainSchema } from "./crd.ts";
import { KINDS } from "./kinds.ts";

export interface SpecProblem {
  /** The field, Kubernetes-style: spec.retention.keepDaily */
  field: string;
  message: string;
}

const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);

/**
 * A validator for any TypeBox schema on the same ajv settings, for the other JSON the operator checks (the
 * plans and results of its Jobs, src/jobs/protocol/schema-check.ts), so that they name fields as specs do.
 */
export function compileSchema(schema: TSchema): ValidateFunction {
  return ajv.compile(plainSchema(schema));
}

// Compiled on first use: a Job's process checks its plan and never a spec.
const validators = new Map<string, ValidateFunction>();

function fieldOf(err: ErrorObject, root: string): string {
  const path = err.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : `${acc}.${part}`), root);
  if (err.keyword === "required") return `${path}.${(err.params as { missingProperty: string }).missingProperty}`;
  return path;
}

/** Problems of `value` by `validate`, each naming its field from `root` ("spec", "plan"); empty when valid. */
export function schemaProblems(validate: ValidateFunction, value: unknown, root: string): SpecProblem[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((err) => ({ field: fieldOf(err, root), message: err.keyword === "required" ? "is required" : (err.message ?? "is invalid") }));
}

function validatorFor(kind: string): ValidateFunction {
  let validate = validators.get(kind);
  if (!validate) {
    const def = KINDS.find((k) => k.kind === kind);
    if (!def) throw new Error(`unknown kind ${kind}`);
    validate = ajv.compile(plainSchema(def.spec));
    validators.set(kind, validate);
  }
  return validate;
}

/**
 * Compiles the schemas of `kinds` now. A controller calls it when it is built, before its caches fill:
 * compiling one takes 100–350 ms on a loaded machine, and paid by the first reconcile it would stall
 * every reconcile running beside it (all of them share one thread) at the start of a cold start.
 */
export function prepareValidators(...kinds: string[]): void {
  for (const kind of kinds) validatorFor(kind);
}

/** Problems of `spec` for `kind`, first the most specific; empty when valid. */
export function validateSpec(kind: string, spec: unknown): SpecProblem[] {
  const validate = validatorFor(kind);
  if (spec === undefined || spec === null) return [{ field: "spec", message: "spec is required" }];
  const problems = schemaProblems(validate, spec, "spec");
  return problems.length > 0 ? problems : meaningProblems(spec);
}

/**
 * What a schema cannot say and every kind shares: a `collections.pattern` must be a regular expression
 * the backup Job can compile (JavaScript, Unicode mode, as the Job runs it). Caught here, before any Job
 * exists: a pattern the Job's plan check refuses would otherwise stop the backup before it has a status
 * (and hold its Qdrant's line of work), where it should fail naming the field.
 */
function meaningProblems(spec: unknown): SpecProblem[] {
  const pattern = (spec as { collections?: { pattern?: unknown } }).collections?.pattern;
  if (typeof pattern !== "string") return [];
  try {
    new RegExp(pattern, "u");
    return [];
  } catch (err) {
    return [{ field: "spec.collections.pattern", message: `is not a regular expression: ${(err as Error).message}` }];
  }
}

/** One line for a condition message: "spec.schedule: must match pattern …; spec.x: …". */
export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}
