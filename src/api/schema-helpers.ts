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
  /**
   * A CEL expression that builds the message from the value; `message` is the fallback when it fails.
   * Its estimated cost is budgeted apart and tightly: `string(int)` alone exceeds it.
   */
  messageExpression?: string;
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
 * What Qdrant refuses in a new collection's name: `validate_collection_name` in qdrant/qdrant
 * lib/common/common/src/validation.rs forbids < > : " / \ | ? * NUL and 0x1F, and `StrictCollectionPath`
 * in src/actix/api/mod.rs bounds the length to 1–255. We refuse every control character (0x00–0x1F),
 * not only those two: they break log lines and object keys, and no one names a collection with a tab.
 * The class body of a regular expression, valid in JavaScript (ajv) and RE2 (the apiserver) alike.
 */
const FORBIDDEN_IN_NAME = '<>:"/\\\\|?*\\x00-\\x1f';

/** What `kubectl apply` says about a `.` or `..` name (after the field's path). */
export const DOT_NAME_MESSAGE = '"." and ".." cannot be collection or alias names: in a URL path they mean "this" and "the parent" (/collections/../snapshots is the full-storage snapshot endpoint)';

/** What `kubectl apply` says about a name with a character Qdrant refuses. */
export const FORBIDDEN_NAME_MESSAGE = 'must not contain < > : " / \\ | ? * or a control character (Qdrant\'s collection name rules)';

/**
 * A Qdrant collection or alias name, as Qdrant accepts it for a new collection, and never `.` or `..`:
 * Qdrant's rules allow those, but as a URL path segment they mean "here" and "the parent", so
 * `/collections/../snapshots` would be the full-storage snapshot endpoint. (The adapter refuses them
 * too, src/qdrant/path.ts, for objects stored before this rule.)
 *
 * Two layers, on purpose: the `pattern` is what the controller's ajv checks (it runs no CEL), so an
 * object stored before a schema change is answered with InvalidSpec; the CEL rules are what a user
 * reads from `kubectl apply`, in words that say what to fix. The pattern admits `...` and longer runs of
 * dots (not dot-segments) and every name with a character other than a dot.
 */
export function CollectionName(description: string) {
  const c = `[^${FORBIDDEN_IN_NAME}]`;
  const notDot = `[^.${FORBIDDEN_IN_NAME}]`;
  return Type.String({
    description,
    minLength: 1,
    maxLength: 255,
    pattern: `^(\\.{3,}|${c}*${notDot}${c}*)$`,
    ...cel(
      { rule: "self != '.' && self != '..'", message: DOT_NAME_MESSAGE },
      { rule: `!self.matches('[${FORBIDDEN_IN_NAME.replaceAll("\\", "\\\\")}]')`, message: FORBIDDEN_NAME_MESSAGE },
    ),
  });
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
