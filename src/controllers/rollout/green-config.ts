/**
 * copyFrom without `config`: green is created like its source. Qdrant reports a collection's config
 * (GET /collections/{c} → config) in a shape close to, but not the same as, the CreateCollection body it
 * accepts: `params` holds what the body has at the top (vectors, shard_number, replication_factor,
 * write_consistency_factor, on_disk_payload, sparse_vectors, sharding_method), and the optimizer section is
 * `optimizer_config` where the body says `optimizers_config`. This turns the one into the other.
 *
 * Nulls are dropped (Qdrant reports unset optional settings as null; leaving them out means "Qdrant's
 * default", which is what null meant). The source's metadata is carried over except the operator's own keys
 * (OWNER_METADATA, COPY_METADATA): a source that was itself a rollout's green must not hand its owner stamp
 * or its copy record to the new green. Pure.
 */
import type { CollectionConfig } from "../../qdrant/client.ts";
import { COPY_METADATA, OWNER_METADATA } from "./names.ts";

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** A deep copy without null values (in objects; arrays keep their items). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isObject(v)) return v;
  const out: Json = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = withoutNulls(x);
  return out;
}

const PARAMS = ["vectors", "shard_number", "sharding_method", "replication_factor", "write_consistency_factor", "on_disk_payload", "sparse_vectors"] as const;
const SECTIONS: ReadonlyArray<readonly [from: string, to: string]> = [
  ["hnsw_config", "hnsw_config"],
  ["optimizer_config", "optimizers_config"],
  ["wal_config", "wal_config"],
  ["quantization_config", "quantization_config"],
  ["strict_mode_config", "strict_mode_config"],
];

/** The CreateCollection body that makes a collection configured as the one whose reported config is `config`. */
export function createBodyFromInfo(config: unknown): CollectionConfig {
  const c = isObject(config) ? config : {};
  const params = isObject(c.params) ? c.params : {};
  const body: Json = {};
  for (const k of PARAMS) if (params[k] !== undefined && params[k] !== null) body[k] = withoutNulls(params[k]);
  for (const [from, to] of SECTIONS) if (c[from] !== undefined && c[from] !== null) body[to] = withoutNulls(c[from]);
  if (isObject(c.metadata)) {
    const { [OWNER_METADATA]: _owner, [COPY_METADATA]: _copy, ...rest } = c.metadata;
    if (Object.keys(rest).length > 0) body.metadata = withoutNulls(rest);
  }
  return body;
}
