/**
 * Conversions between request/response point shapes and what a shard stores: vector validation against
 * the collection's vector layout, `with_payload` / `with_vector` selectors, and the Record / ScoredPoint
 * output forms (payload and vector are `null` when not requested, as Qdrant serialises them).
 */
import { isUnnamedVectors, vectorSpecs, type CollectionConfig, type Json } from "./collection-config.ts";
import { badInput, formatError } from "./errors.ts";
import { keyToId, type PointId } from "./point-id.ts";
import { prepareVector } from "./scoring.ts";
import { valuesAt } from "./filter.ts";

/** What a shard record body holds. Vectors are keyed by name, "" being the unnamed vector. */
export interface StoredPoint {
  id: PointId;
  vector: Record<string, unknown>;
  payload: Json;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

/** Validates one point's vector input and converts it to the stored, per-name form. */
export function prepareVectors(config: CollectionConfig, input: unknown): Record<string, unknown> {
  const specs = vectorSpecs(config);
  const sparse = isObject(config.params.sparse_vectors) ? config.params.sparse_vectors : {};
  let named: Record<string, unknown>;
  if (isNumberArray(input)) named = { "": input };
  else if (isObject(input)) named = input;
  else throw formatError("data did not match any variant of untagged enum VectorStruct");
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(named)) {
    const spec = specs.get(name);
    if (spec !== undefined) {
      if (!isNumberArray(value)) throw formatError("data did not match any variant of untagged enum VectorStruct");
      if (value.length !== spec.size) {
        throw badInput(`Vector dimension error: expected dim: ${spec.size}, got ${value.length}`);
      }
      out[name] = prepareVector(value, spec.distance);
    } else if (name in sparse && isObject(value)) {
      out[name] = { indices: value.indices, values: value.values };
    } else {
      throw badInput(`Not existing vector name error: ${name}`);
    }
  }
  return out;
}

/** Renders stored vectors per `with_vector` (true/false/list of names). */
export function selectVectors(config: CollectionConfig, vectors: Record<string, unknown>, withVector: unknown): unknown {
  if (withVector === undefined || withVector === null || withVector === false) return null;
  if (isUnnamedVectors(config.params.vectors) && Object.keys(vectors).every((k) => k === "")) {
    if (withVector === true || (Array.isArray(withVector) && withVector.includes(""))) return vectors[""] ?? null;
    return null;
  }
  const names = withVector === true ? Object.keys(vectors) : Array.isArray(withVector) ? withVector.map(String) : [];
  const out: Record<string, unknown> = {};
  for (const n of names) if (n in vectors) out[n] = vectors[n];
  return out;
}

function setPath(target: Json, path: string, value: unknown): void {
  const parts = path.split(".");
  let cur = target;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] ?? "";
    if (!isObject(cur[p])) cur[p] = {};
    cur = cur[p] as Json;
  }
  cur[parts[parts.length - 1] ?? ""] = value;
}

function deletePath(target: Json, path: string): void {
  const parts = path.split(".");
  let cur: unknown = target;
  for (let i = 0; i < parts.length - 1; i++) {
    if (!isObject(cur)) return;
    cur = cur[parts[i] ?? ""];
  }
  if (isObject(cur)) delete cur[parts[parts.length - 1] ?? ""];
}

/** Renders a payload per `with_payload` (bool, list of keys, {include}, {exclude}). */
export function selectPayload(payload: Json, withPayload: unknown): Json | null {
  if (withPayload === undefined || withPayload === null || withPayload === false) return null;
  if (withPayload === true) return payload;
  const include = Array.isArray(withPayload)
    ? withPayload
    : isObject(withPayload) && Array.isArray(withPayload.include)
      ? withPayload.include
      : undefined;
  if (include !== undefined) {
    const out: Json = {};
    for (const key of include.map(String)) {
      const found = valuesAt(payload, key);
      if (found.length === 0) continue;
      const direct = key.split(".").reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), payload);
      setPath(out, key, direct !== undefined ? direct : found.length === 1 ? found[0] : found);
    }
    return out;
  }
  if (isObject(withPayload) && Array.isArray(withPayload.exclude)) {
    const out = structuredClone(payload);
    for (const key of withPayload.exclude.map(String)) deletePath(out, key);
    return out;
  }
  throw formatError("data did not match any variant of untagged enum WithPayloadInterface");
}

export function decodePoint(body: Buffer): StoredPoint {
  return JSON.parse(body.toString("utf8")) as StoredPoint;
}

export function encodePoint(p: StoredPoint): Buffer {
  return Buffer.from(JSON.stringify(p), "utf8");
}

/**
 * Adds `payload` and `vector` to an output point when they were asked for; Qdrant skips the keys otherwise
 * (`skip_serializing_if = "Option::is_none"` on Record and ScoredPoint).
 */
export function withSelected(out: Json, config: CollectionConfig, p: StoredPoint, withPayload: unknown, withVector: unknown): Json {
  const payload = selectPayload(p.payload, withPayload);
  if (payload !== null) out.payload = payload;
  const vector = selectVectors(config, p.vector, withVector);
  if (vector !== null) out.vector = vector;
  return out;
}

export function recordOut(
  config: CollectionConfig,
  key: string,
  p: StoredPoint,
  withPayload: unknown,
  withVector: unknown,
): Json {
  return withSelected({ id: keyToId(key) }, config, p, withPayload, withVector);
}
