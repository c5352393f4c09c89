/**
 * Validates HTTP responses against Qdrant's OpenAPI 3.0 spec with ajv. The spec is converted to JSON Schema
 * first: OpenAPI 3.0's `nullable` becomes a `null` type (a bare `{nullable: true}` branch, which the spec
 * uses inside `anyOf` to mean "or null", becomes `{type: "null"}`), `example`/`discriminator` are dropped,
 * and Qdrant's numeric formats (uint, uint64, float, …) are checked as ranges. Reused by the operator's
 * tests, so it knows nothing about the emulator.
 */
import * as fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";

type Schema = Record<string, unknown>;

export interface ResponseToValidate {
  method: string;
  /** Concrete request path, e.g. `/collections/foo/points/scroll` (query string ignored). */
  path: string;
  status: number;
  /** The response's Content-Type header (parameters ignored). */
  contentType?: string | null;
  /** Parsed JSON body (for JSON responses). */
  body?: unknown;
}

export interface ValidationResult {
  valid: boolean;
  errors: string[];
  /** `METHOD /template` of the operation matched, if any. */
  operation?: string;
  /** True when the spec has no such operation (e.g. `/points/search`, routed by Qdrant but gone from 1.19's spec). */
  undocumented?: boolean;
}

/** Default location of the spec: ../shared/qdrant/openapi.json beside the repository (override: QDRANT_OPENAPI_SPEC). */
export function defaultSpecPath(): string {
  return process.env.QDRANT_OPENAPI_SPEC ?? fileURLToPath(new URL("../../../shared/qdrant/openapi.json", import.meta.url));
}

const SCHEMA_MAPS = ["properties", "patternProperties", "definitions"];
const SCHEMA_LISTS = ["anyOf", "oneOf", "allOf"];
const SCHEMA_SINGLE = ["items", "additionalProperties", "not"];
const STRUCTURE_KEYS = ["type", "$ref", "anyOf", "oneOf", "allOf", "properties", "items", "enum", "additionalProperties"];

/** OpenAPI 3.0 schema → JSON Schema (draft-07 as ajv reads it). */
export function convertSchema(input: unknown): unknown {
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const s = input as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === "example" || k === "discriminator" || k === "nullable" || k === "xml" || k === "externalDocs") continue;
    if (SCHEMA_MAPS.includes(k) && typeof v === "object" && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, sub]) => [name, convertSchema(sub)]));
    } else if (SCHEMA_LISTS.includes(k) && Array.isArray(v)) {
      out[k] = v.map(convertSchema);
    } else if (SCHEMA_SINGLE.includes(k)) {
      out[k] = convertSchema(v);
    } else if (k === "$ref" && typeof v === "string") {
      out[k] = v;
    } else out[k] = v;
  }
  if (s.nullable !== true) return out;
  if (!STRUCTURE_KEYS.some((k) => k in s)) return { ...out, type: "null" };
  if (typeof out.type === "string") {
    out.type = [out.type, "null"];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    return out;
  }
  return { anyOf: [out, { type: "null" }] };
}

function pointerEscape(s: string): string {
  return s.replace(/~/g, "~0").replace(/\//g, "~1");
}

const UINT_MAX: Record<string, number> = { uint8: 255, uint16: 65535, uint32: 4294967295 };

function addFormats(ajv: Ajv): void {
  for (const f of ["uint", "uint64", "uint8", "uint16", "uint32"]) {
    ajv.addFormat(f, { type: "number", validate: (x: number) => Number.isInteger(x) && x >= 0 && x <= (UINT_MAX[f] ?? Number.MAX_VALUE) });
  }
  for (const f of ["int64", "int32"]) ajv.addFormat(f, { type: "number", validate: (x: number) => Number.isInteger(x) });
  for (const f of ["float", "double"]) ajv.addFormat(f, { type: "number", validate: (x: number) => Number.isFinite(x) });
  ajv.addFormat("binary", true);
  ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  ajv.addFormat("partial-date-time", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/);
  ajv.addFormat("date-time", {
    type: "string",
    validate: (x: string) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(x) && !Number.isNaN(Date.parse(x)),
  });
  ajv.addFormat("uri", {
    type: "string",
    validate: (x: string) => {
      try {
        new URL(x);
        return true;
      } catch {
        return false;
      }
    },
  });
}

interface Operation {
  method: string;
  template: string;
  segments: string[];
  responses: Record<string, { content?: Record<string, unknown> }>;
}

export class OpenApiValidator {
  private readonly ajv: Ajv;
  private readonly operations: Operation[] = [];
  private readonly compiled = new Map<string, ValidateFunction>();
  private static readonly ID = "qdrant-openapi";

  constructor(spec: Record<string, unknown>) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    const converted: Schema = {
      $id: OpenApiValidator.ID,
      components: { schemas: {} },
      paths: {},
    };
    const components = (spec.components as Schema | undefined)?.schemas as Schema | undefined;
    for (const [name, sch] of Object.entries(components ?? {})) (converted.components as { schemas: Schema }).schemas[name] = convertSchema(sch);
    const paths = (spec.paths ?? {}) as Record<string, Record<string, Schema>>;
    for (const [template, item] of Object.entries(paths)) {
      const convertedItem: Schema = {};
      for (const [method, op] of Object.entries(item)) {
        const responses = (op.responses ?? {}) as Record<string, { content?: Record<string, { schema?: unknown }> }>;
        const convResponses: Schema = {};
        for (const [code, resp] of Object.entries(responses)) {
          const content: Schema = {};
          for (const [ct, media] of Object.entries(resp.content ?? {})) content[ct] = { schema: convertSchema(media.schema ?? {}) };
          convResponses[code] = { content };
        }
        convertedItem[method] = { responses: convResponses };
        this.operations.push({
          method: method.toUpperCase(),
          template,
          segments: template.split("/").slice(1),
          responses: responses,
        });
      }
      (converted.paths as Schema)[template] = convertedItem;
    }
    this.ajv.addSchema(converted);
  }

  static load(specPath: string = defaultSpecPath()): OpenApiValidator {
    return new OpenApiValidator(JSON.parse(fs.readFileSync(specPath, "utf8")) as Record<string, unknown>);
  }

  /** The spec operation for a concrete path (literal segments beat `{params}`). */
  findOperation(method: string, path: string): Operation | undefined {
    const segs = path.split("?")[0]?.split("/").slice(1) ?? [];
    let best: { op: Operation; literals: number } | undefined;
    for (const op of this.operations) {
      if (op.method !== method.toUpperCase() || op.segments.length !== segs.length) continue;
      let literals = 0;
      let ok = true;
      for (let i = 0; i < segs.length; i++) {
        const t = op.segments[i] ?? "";
        if (t.startsWith("{") && t.endsWith("}")) continue;
        if (t !== decodeURIComponent(segs[i] ?? "")) {
          ok = false;
          break;
        }
        literals++;
      }
      if (ok && (best === undefined || literals > best.literals)) best = { op, literals };
    }
    return best?.op;
  }

  private validator(ref: string): ValidateFunction {
    let fn = this.compiled.get(ref);
    if (fn === undefined) {
      fn = this.ajv.compile({ $ref: `${OpenApiValidator.ID}#${ref}` });
      this.compiled.set(ref, fn);
    }
    return fn;
  }

  private run(ref: string, value: unknown): string[] {
    const fn = this.validator(ref);
    if (fn(value)) return [];
    return (fn.errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "invalid"} ${JSON.stringify(e.params)}`);
  }

  /**
   * Validates a response against the operation's declared response for its status (exact code, then
   * `4XX`/`5XX`, then `default`). A JSON body where the spec declares none, or no operation at all, is an error.
   */
  validateResponse(r: ResponseToValidate): ValidationResult {
    const op = this.findOperation(r.method, r.path);
    if (op === undefined) return { valid: false, undocumented: true, errors: [`no operation ${r.method} ${r.path} in the spec`] };
    const operation = `${op.method} ${op.template}`;
    const code = String(r.status);
    const key = [code, `${code[0]}XX`, "default"].find((k) => k in op.responses);
    if (key === undefined) return { valid: false, operation, errors: [`status ${code} is not declared for ${operation}`] };
    const content = op.responses[key]?.content ?? {};
    const ct = (r.contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    if (!(ct in content)) {
      if (ct === "application/json") {
        return { valid: false, operation, errors: [`${operation} ${key} declares no JSON body (declared: ${Object.keys(content).join(", ") || "none"})`] };
      }
      // Text/binary bodies the spec does not describe (e.g. text/plain errors of download routes): nothing to check.
      return { valid: true, operation, errors: [] };
    }
    if (ct !== "application/json") return { valid: true, operation, errors: [] };
    const pointer = `/paths/${pointerEscape(op.template)}/${op.method.toLowerCase()}/responses/${pointerEscape(key)}/content/${pointerEscape(ct)}/schema`;
    const errors = this.run(pointer, r.body);
    return { valid: errors.length === 0, operation, errors };
  }

  /** Validates a value against a named component schema (e.g. "ScoredPoint"). */
  validateSchema(name: string, value: unknown): ValidationResult {
    const errors = this.run(`/components/schemas/${pointerEscape(name)}`, value);
    return { valid: errors.length === 0, errors };
  }

  /** Throws with the details when the response does not match the spec. */
  assertResponse(r: ResponseToValidate): void {
    const result = this.validateResponse(r);
    if (!result.valid) {
      throw new Error(`${r.method} ${r.path} → ${r.status} does not match the OpenAPI spec:\n  ${result.errors.join("\n  ")}\nbody: ${JSON.stringify(r.body)?.slice(0, 2000)}`);
    }
  }
}
