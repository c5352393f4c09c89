/**
 * Checks the JSON a Job and its controller exchange (plans, results) against their TypeBox schemas, with
 * the ajv settings and field naming of the API's own validation (src/api/validate.ts): a bad plan reads
 * "plan.qdrant.url: must match pattern …" as a bad spec reads "spec.schedule: …". Both sides use one
 * checker: the controller before it creates a Job, the Job when it reads its plan, the controller again
 * when it reads the Job's result.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { ValidateFunction } from "ajv";
import { compileSchema, schemaProblems, type SpecProblem } from "../../api/validate.ts";

/**
 * Schema option of an array whose malformed items are left out instead of failing the whole value (a
 * result's file list: a status must never show a checksum that is not one, but one bad entry need not
 * hide the rest). ajv ignores the unknown keyword.
 */
export const DROP_INVALID_ITEMS = "x-drop-invalid-items";

export interface Checker<T> {
  /** Every problem of `value`, fields named from the checker's root; empty when valid. */
  problems(value: unknown): SpecProblem[];
  /** `value` with the malformed items of DROP_INVALID_ITEMS arrays left out (a copy), if what is left is valid. */
  read(value: unknown): T | undefined;
}

type SchemaNode = { type?: unknown; properties?: Record<string, SchemaNode>; items?: SchemaNode; [DROP_INVALID_ITEMS]?: boolean };

export function checker<S extends TSchema>(schema: S, root: string): Checker<Static<S>> {
  const validate = compileSchema(schema);
  const items = new Map<SchemaNode, ValidateFunction>();
  const itemValidator = (node: SchemaNode): ValidateFunction => {
    let v = items.get(node);
    if (!v) items.set(node, (v = compileSchema(node as TSchema)));
    return v;
  };
  const prune = (node: SchemaNode, value: unknown): unknown => {
    if (Array.isArray(value) && node.items) {
      const kept = value.map((v) => prune(node.items!, v));
      return node[DROP_INVALID_ITEMS] ? kept.filter((v) => itemValidator(node.items!)(v)) : kept;
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value) && node.properties) {
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      for (const [k, sub] of Object.entries(node.properties)) if (k in out) out[k] = prune(sub, out[k]);
      return out;
    }
    return value;
  };
  return {
    problems: (value) => schemaProblems(validate, value, root),
    read: (value) => {
      const pruned = prune(schema as SchemaNode, value);
      return validate(pruned) ? (pruned) : undefined;
    },
  };
}
