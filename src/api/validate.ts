/**
 * Validates a stored object's spec against the same schema the CRD carries. The apiserver already did so
 * on write, but objects written before a schema change, or by a client that bypassed validation, reach
 * the controller too: it reports an InvalidSpec condition naming the field instead of crashing on them.
 * CEL rules are the apiserver's alone; ajv checks types, patterns, ranges and enums.
 */
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

const validators = new Map<string, ValidateFunction>();
for (const def of KINDS) validators.set(def.kind, ajv.compile(plainSchema(def.spec)));

function fieldOf(err: ErrorObject): string {
  const path = err.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : `${acc}.${part}`), "spec");
  if (err.keyword === "required") return `${path}.${(err.params as { missingProperty: string }).missingProperty}`;
  return path;
}

/** Problems of `spec` for `kind`, first the most specific; empty when valid. */
export function validateSpec(kind: string, spec: unknown): SpecProblem[] {
  const validate = validators.get(kind);
  if (!validate) throw new Error(`unknown kind ${kind}`);
  if (spec === undefined || spec === null) return [{ field: "spec", message: "spec is required" }];
  if (validate(spec)) return [];
  return (validate.errors ?? []).map((err) => ({ field: fieldOf(err), message: err.keyword === "required" ? "is required" : (err.message ?? "is invalid") }));
}

/** One line for a condition message: "spec.schedule: must match pattern …; spec.x: …". */
export function describeProblems(problems: SpecProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}
