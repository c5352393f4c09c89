/**
 * Collection configuration: turning a `CreateCollection` body into the `CollectionConfig` Qdrant reports
 * (its defaults filled in, the caller's settings echoed back), applying `PATCH` diffs, and the vector
 * layout (unnamed vs named) that point operations need.
 */
import { badInput, formatError, validationError } from "./errors.ts";
import { DISTANCES, type Distance } from "./scoring.ts";

export type Json = Record<string, unknown>;

export interface VectorSpec {
  size: number;
  distance: Distance;
}

export interface CollectionParams extends Json {
  vectors: Json;
  shard_number: number;
  replication_factor: number;
  write_consistency_factor: number;
  on_disk_payload: boolean;
}

export interface CollectionConfig extends Json {
  params: CollectionParams;
  hnsw_config: Json;
  optimizer_config: Json;
  wal_config: Json;
  quantization_config: unknown;
  strict_mode_config: Json;
}

const HNSW_DEFAULTS: Json = {
  m: 16,
  ef_construct: 100,
  full_scan_threshold: 10000,
  max_indexing_threads: 0,
  on_disk: false,
};

const OPTIMIZER_DEFAULTS: Json = {
  deleted_threshold: 0.2,
  vacuum_min_vector_number: 1000,
  default_segment_number: 0,
  max_segment_size: null,
  memmap_threshold: null,
  indexing_threshold: 10000,
  flush_interval_sec: 5,
  max_optimization_threads: null,
};

const WAL_DEFAULTS: Json = { wal_capacity_mb: 32, wal_segments_ahead: 0, wal_retain_closed: 1 };

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A single `{size, distance}` is the unnamed form; anything else is a map of named vectors. */
export function isUnnamedVectors(vectors: Json): boolean {
  return "size" in vectors || "distance" in vectors;
}

function checkVectorParams(v: unknown, field: string, problems: string[]): void {
  if (!isObject(v)) throw formatError("data did not match any variant of untagged enum VectorsConfig");
  const size = v.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
    throw formatError("data did not match any variant of untagged enum VectorsConfig");
  }
  if (!DISTANCES.includes(v.distance as Distance)) {
    throw formatError("data did not match any variant of untagged enum VectorsConfig");
  }
  if (size < 1) problems.push(`${field}.size: value ${size} invalid, must be 1 or larger`);
}

/** Per-name vector specs ("" is the unnamed vector). */
export function vectorSpecs(config: CollectionConfig): Map<string, VectorSpec> {
  const vectors = config.params.vectors;
  const out = new Map<string, VectorSpec>();
  if (isUnnamedVectors(vectors)) {
    out.set("", { size: Number(vectors.size), distance: vectors.distance as Distance });
    return out;
  }
  for (const [name, v] of Object.entries(vectors)) {
    if (isObject(v)) out.set(name, { size: Number(v.size), distance: v.distance as Distance });
  }
  return out;
}

function mergeDiff(base: Json, diff: unknown): Json {
  const out = { ...base };
  if (!isObject(diff)) return out;
  for (const [k, v] of Object.entries(diff)) if (v !== null && v !== undefined) out[k] = v;
  return out;
}

function positiveInt(body: Json, key: string, problems: string[]): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw formatError(`invalid value: ${JSON.stringify(v)}, expected u32 for \`${key}\``);
  }
  if (v < 1) problems.push(`${key}: value ${v} invalid, must be 1 or larger`);
  return v;
}

/** Builds the stored config from a create body; `defaultShards` is 1 standalone, the peer count in a cluster. */
export function buildCollectionConfig(body: Json, defaultShards: number): CollectionConfig {
  const problems: string[] = [];
  const vectors = body.vectors ?? {};
  if (!isObject(vectors)) throw formatError("data did not match any variant of untagged enum VectorsConfig");
  if (isUnnamedVectors(vectors)) checkVectorParams(vectors, "vectors", problems);
  else for (const [name, v] of Object.entries(vectors)) checkVectorParams(v, `vectors.${name}`, problems);
  const shardNumber = positiveInt(body, "shard_number", problems);
  const replication = positiveInt(body, "replication_factor", problems);
  const writeConsistency = positiveInt(body, "write_consistency_factor", problems);
  if (problems.length > 0) throw validationError("JSON body", problems);

  const params: CollectionParams = {
    vectors,
    shard_number: shardNumber ?? defaultShards,
    replication_factor: replication ?? 1,
    write_consistency_factor: writeConsistency ?? 1,
    on_disk_payload: typeof body.on_disk_payload === "boolean" ? body.on_disk_payload : true,
  };
  if (body.sharding_method !== undefined && body.sharding_method !== null) params.sharding_method = body.sharding_method;
  if (isObject(body.sparse_vectors)) params.sparse_vectors = body.sparse_vectors;
  if (isObject(body.payload)) params.payload = body.payload;

  const config: CollectionConfig = {
    params,
    hnsw_config: mergeDiff(HNSW_DEFAULTS, body.hnsw_config),
    optimizer_config: mergeDiff(OPTIMIZER_DEFAULTS, body.optimizers_config),
    wal_config: mergeDiff(WAL_DEFAULTS, body.wal_config),
    quantization_config: body.quantization_config ?? null,
    strict_mode_config: mergeDiff({ enabled: false }, body.strict_mode_config),
  };
  if (isObject(body.metadata)) config.metadata = body.metadata;
  return config;
}

/** Applies a `PATCH /collections/{c}` body (UpdateCollection) to a copy of the config. */
export function applyCollectionUpdate(config: CollectionConfig, body: Json): CollectionConfig {
  const next = structuredClone(config);
  const problems: string[] = [];
  if (isObject(body.params)) {
    const p = body.params;
    positiveInt(p, "replication_factor", problems);
    positiveInt(p, "write_consistency_factor", problems);
    if (problems.length > 0) throw validationError("JSON body", problems.map((x) => `params.${x}`));
    for (const key of ["replication_factor", "write_consistency_factor", "read_fan_out_factor", "read_fan_out_delay_ms", "on_disk_payload"]) {
      if (p[key] !== undefined && p[key] !== null) next.params[key] = p[key];
    }
  }
  if (body.hnsw_config !== undefined) next.hnsw_config = mergeDiff(next.hnsw_config, body.hnsw_config);
  if (body.optimizers_config !== undefined) {
    next.optimizer_config = mergeDiff(next.optimizer_config, body.optimizers_config);
  }
  if (body.quantization_config !== undefined && body.quantization_config !== null) {
    next.quantization_config = body.quantization_config === "Disabled" ? null : body.quantization_config;
  }
  if (body.strict_mode_config !== undefined && body.strict_mode_config !== null) {
    next.strict_mode_config = mergeDiff(next.strict_mode_config, body.strict_mode_config);
  }
  if (isObject(body.metadata)) {
    // Qdrant's `Collection::update_metadata` (lib/collection/src/collection/collection_ops.rs): with
    // metadata already present, `Payload::merge` (top-level keys only: a value replaces the key's whole
    // value, no deep merge; null removes the key); with none, the diff is stored as it is (nulls kept).
    if (isObject(next.metadata)) {
      const meta: Json = { ...next.metadata };
      for (const [k, v] of Object.entries(body.metadata)) {
        if (v === null) delete meta[k];
        else meta[k] = v;
      }
      next.metadata = meta;
    } else {
      next.metadata = { ...body.metadata };
    }
  }
  if (isObject(body.vectors)) {
    const vectors = next.params.vectors;
    for (const [name, diff] of Object.entries(body.vectors)) {
      const target = name === "" && isUnnamedVectors(vectors) ? vectors : vectors[name];
      if (!isObject(target)) throw badInput(`Not existing vector name error: ${name}`);
      if (isObject(diff)) {
        for (const [k, v] of Object.entries(diff)) if (v !== null) target[k] = v;
      }
    }
  }
  if (isObject(body.sparse_vectors)) {
    next.params.sparse_vectors = { ...(isObject(next.params.sparse_vectors) ? next.params.sparse_vectors : {}), ...body.sparse_vectors };
  }
  return next;
}

/** Strict name rules (create, upload): 1–255 characters and none of `< > : " / \ | ? *` NUL, U+001F. */
export function checkStrictCollectionName(name: string): void {
  if (name.length < 1 || name.length > 255) {
    throw validationError("path parameters", [
      `collection_name: length is ${name.length}, but must be between 1 and 255 characters`,
    ]);
  }
  for (const ch of ["<", ">", ":", '"', "/", "\\", "|", "?", "*", "\0", "\u001f"]) {
    if (name.includes(ch)) {
      throw validationError("path parameters", [`collection_name: collection name cannot contain "${ch}" char`]);
    }
  }
}

/** Legacy name rules (every other path): only `/` and NUL are refused. */
export function checkLegacyCollectionName(name: string): void {
  for (const ch of ["/", "\0"]) {
    if (name.includes(ch)) {
      throw validationError("path parameters", [`collection_name: collection name cannot contain "${ch}" char`]);
    }
  }
}
