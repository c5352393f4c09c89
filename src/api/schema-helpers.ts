/**
 * Small builders for the CRD schemas. Each returns a TypeBox schema, so one definition gives the
 * OpenAPI schema in crds/*.yaml, the ajv validator the controller runs, and the TypeScript type
 * (`Static<typeof X>`) the code uses: the three cannot drift.
 *
 * Kubernetes wants *structural* schemas: every node typed, no anyOf of types. So enums are plain
 * `{type: string, enum}` and "exactly one of" is a CEL rule, never a union.
 */
import { Type, type SchemaOptions, type TUnsafe } from "@sinclair/typebox";

export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath-ish path, relative to the node, that the error names (e.g. ".schedule"). */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** The `x-kubernetes-validations` option for a schema node. */
export function cel(...rules: CelRule[]): { "x-kubernetes-validations": CelRule[] } {
  return { "x-kubernetes-validations": rules };
}

/** A string enum as Kubernetes wants it, typed as the union of its values. */
export function StringEnum<T extends string>(values: readonly T[], options: SchemaOptions = {}): TUnsafe<T> {
  return Type.Unsafe<T>({ type: "string", enum: [...values], ...options });
}

/** A DNS-1123 subdomain: the name of any Kubernetes object. */
export function ObjectName(description: string) {
  return Type.String({ description, minLength: 1, maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$" });
}

/**
 * A Qdrant collection name under Qdrant's strict rules (create and upload): 1–255 characters, none of
 * < > : " / \ | ? * and no control characters.
 */
export function CollectionName(description: string) {
  return Type.String({ description, minLength: 1, maxLength: 255, pattern: '^[^<>:"/\\\\|?*\\x00-\\x1f]+$' });
}

/** A duration such as "90m", "36h", "30d" or "1w2d": units s, m, h, d, w. */
export function Duration(description: string, options: SchemaOptions = {}) {
  return Type.String({ description, pattern: "^([0-9]+(s|m|h|d|w))+$", ...options });
}

/** A map of string to string (labels, annotations). */
export function StringMap(description: string) {
  // Not Type.Record: that emits patternProperties, which structural schemas forbid.
  return Type.Unsafe<Record<string, string>>({ type: "object", description, additionalProperties: { type: "string" } });
}

/**
 * An object whose content Kubernetes validates elsewhere (e.g. a Pod's affinity, validated when the Job
 * is created): kept as-is instead of copying Kubernetes' own large schema.
 */
export function OpaqueObject(description: string) {
  return Type.Unsafe<Record<string, unknown>>({ type: "object", description, "x-kubernetes-preserve-unknown-fields": true });
}

/** An integer or a string, like a Kubernetes resource quantity or a port name. */
export function IntOrString(description: string, options: SchemaOptions = {}) {
  return Type.Unsafe<number | string>({ "x-kubernetes-int-or-string": true, description, ...options });
}
