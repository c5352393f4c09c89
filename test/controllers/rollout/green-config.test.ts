/**
 * createBodyFromInfo: a collection's reported config (GET /collections/{c} → config) turned into the
 * CreateCollection body that makes green configured the same; checked against the environment's Qdrant:
 * a collection created from the body reports the same config as its source.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createBodyFromInfo } from "../../../src/controllers/rollout/green-config.ts";
import { COPY_METADATA, OWNER_METADATA } from "../../../src/controllers/rollout/names.ts";

test("params move to the top, optimizer_config becomes optimizers_config, nulls go, the operator's metadata keys go", () => {
  const reported = {
    params: {
      vectors: { dense: { size: 8, distance: "Dot", on_disk: true }, small: { size: 4, distance: "Cosine" } },
      shard_number: 3,
      replication_factor: 2,
      write_consistency_factor: 1,
      on_disk_payload: true,
      sparse_vectors: { text: { modifier: "idf" } },
      read_fan_out_factor: null,
    },
    hnsw_config: { m: 32, ef_construct: 200, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false, payload_m: null },
    optimizer_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, max_segment_size: null, memmap_threshold: null, indexing_threshold: 20000, flush_interval_sec: 5, max_optimization_threads: null },
    wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
    quantization_config: { scalar: { type: "int8", quantile: 0.99, always_ram: true } },
    strict_mode_config: null,
    metadata: { team: "search", [OWNER_METADATA]: { namespace: "prod", name: "v1", uid: "u1" }, [COPY_METADATA]: { copied: 5, done: true, attempt: 1 } },
  };
  assert.deepEqual(createBodyFromInfo(reported), {
    vectors: { dense: { size: 8, distance: "Dot", on_disk: true }, small: { size: 4, distance: "Cosine" } },
    shard_number: 3,
    replication_factor: 2,
    write_consistency_factor: 1,
    on_disk_payload: true,
    sparse_vectors: { text: { modifier: "idf" } },
    hnsw_config: { m: 32, ef_construct: 200, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
    optimizers_config: { deleted_threshold: 0.2, vacuum_min_vector_number: 1000, default_segment_number: 0, indexing_threshold: 20000, flush_interval_sec: 5 },
    wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
    quantization_config: { scalar: { type: "int8", quantile: 0.99, always_ram: true } },
    metadata: { team: "search" },
  });
});

test("a bare config (one unnamed vector), no metadata, or nothing at all", () => {
  assert.deepEqual(createBodyFromInfo({ params: { vectors: { size: 4, distance: "Cosine" }, shard_number: 1 }, metadata: { [OWNER_METADATA]: { namespace: "a", name: "b", uid: "c" } } }), {
    vectors: { size: 4, distance: "Cosine" },
    shard_number: 1,
  });
  assert.deepEqual(createBodyFromInfo(undefined), {});
  assert.deepEqual(createBodyFromInfo({ quantization_config: null }), {});
});

test("against the environment's Qdrant: a collection created from the body reports its source's config", async (t) => {
  const { qdrantApi, useCollection, uniqueName } = await import("../../helpers/qdrant.ts");
  const api = qdrantApi();
  const source = await useCollection(t, "green_config_src", {
    points: 0,
    config: { vectors: { a: { size: 4, distance: "Dot" }, b: { size: 8, distance: "Cosine" } }, shard_number: 2, on_disk_payload: true, hnsw_config: { m: 24 }, optimizers_config: { indexing_threshold: 5000 }, metadata: { team: "search", [OWNER_METADATA]: { namespace: "x", name: "y", uid: "z" } } },
  });
  const copy = uniqueName("green_config_copy");
  const body = createBodyFromInfo(await api.collectionConfig(source));
  await api.createCollection(copy, body);
  t.after(() => api.deleteCollection(copy).then(() => undefined));
  const [was, now] = [(await api.collectionInfo(source)).config, (await api.collectionInfo(copy)).config];
  assert.deepEqual(now.params, was.params);
  assert.deepEqual(now.hnsw_config, was.hnsw_config);
  assert.deepEqual(now.optimizer_config, was.optimizer_config);
  assert.deepEqual(now.metadata, { team: "search" });
});
