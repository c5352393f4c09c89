/**
 * The emulator's snapshot archive format. It keeps Qdrant's layout (version.info, config.json,
 * payload_index.json, shard_key_mapping.json, one directory per shard id with replica_state.json and
 * shard_config.json, shard data only for shards the peer holds) but the shard data is the emulator's own
 * point log, and a manifest written last lets a truncated archive be told from a complete one.
 */
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import type { Cluster } from "./cluster.ts";
import type { CollectionConfig, Json } from "./collection-config.ts";
import type { ReplicaState } from "./consensus.ts";
import { badInput, serviceError, type QdrantError } from "./errors.ts";
import type { PeerNode } from "./peer.ts";
import { CorruptShardError, ShardStore, type IndexEntry } from "./shard-store.ts";
import { extractEntry, readEntry, readTarEntries, TarFormatError, TarWriter, type TarEntry } from "./tar.ts";

export const QDRANT_VERSION = "1.19.0";
const MANIFEST = "emulator-manifest.json";
const FORMAT = "qdrant-emulator-snapshot";
const SHARD_DATA = "segments/points.bin";

interface Manifest {
  format: string;
  version: 1;
  kind: "collection" | "shard";
  entries: Record<string, number>;
}

/** Streams one replica's live records into the archive from a point-in-time copy of its index. */
async function addShardData(tar: TarWriter, name: string, store: ShardStore): Promise<number> {
  const index: Array<[string, IndexEntry]> = store.snapshotIndex();
  // Own descriptor opened in the same tick as the index copy: later writes append, replacements rename,
  // so every indexed range stays readable and consistent while the archive is written.
  const fh = await fsp.open(store.file, "r");
  try {
    const ranges = index.map(([, e]) => ({ offset: e.offset, length: e.length })).sort((a, b) => a.offset - b.offset);
    const merged: Array<{ offset: number; length: number }> = [];
    for (const r of ranges) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.offset + last.length === r.offset) last.length += r.length;
      else merged.push({ ...r });
    }
    const size = merged.reduce((n, r) => n + r.length, 0);
    await tar.addStream(name, size, async (write) => {
      for (const r of merged) await TarWriter.copyRange(fh, r.offset, r.length, write);
    });
    return size;
  } finally {
    await fh.close();
  }
}

/**
 * Writes the snapshot of `collection` as `peer` holds it to `dest` and returns its SHA-256. Every shard gets
 * its replica state; only the shards with a local replica get data.
 */
export async function writeCollectionSnapshot(cluster: Cluster, peer: PeerNode, collection: string, dest: string): Promise<string> {
  const meta = cluster.meta(collection);
  const tar = await TarWriter.create(dest);
  try {
    const entries: Record<string, number> = {};
    const addJson = async (name: string, value: unknown): Promise<void> => {
      const buf = Buffer.from(JSON.stringify(value));
      await tar.addBuffer(name, buf);
      entries[name] = buf.length;
    };
    const version = Buffer.from(QDRANT_VERSION);
    await tar.addBuffer("version.info", version);
    entries["version.info"] = version.length;
    await addJson("config.json", { ...meta.config, uuid: meta.uuid });
    await addJson("payload_index.json", { schema: meta.payloadSchema });
    await addJson("shard_key_mapping.json", {});
    for (const [shardId, replicas] of Object.entries(meta.shards)) {
      await tar.addDirectory(shardId);
      const store = peer.shard(collection, Number(shardId));
      await addJson(`${shardId}/shard_config.json`, { type: "ReplicaSet" });
      await addJson(`${shardId}/replica_state.json`, {
        is_local: store !== undefined,
        this_peer_id: peer.id,
        peers: replicas,
      });
      if (store !== undefined) entries[`${shardId}/${SHARD_DATA}`] = await addShardData(tar, `${shardId}/${SHARD_DATA}`, store);
    }
    const manifest: Manifest = { format: FORMAT, version: 1, kind: "collection", entries };
    await tar.addBuffer(MANIFEST, Buffer.from(JSON.stringify(manifest)));
    return await tar.finish();
  } catch (err) {
    await tar.abort();
    throw err;
  }
}

/** Writes a shard snapshot (one local replica's data) to `dest`; returns its SHA-256. */
export async function writeShardSnapshot(peer: PeerNode, collection: string, shardId: number, replicas: Record<string, ReplicaState>, dest: string): Promise<string> {
  const store = peer.shard(collection, shardId);
  if (store === undefined) throw new Error(`shard ${shardId} is not local`);
  const tar = await TarWriter.create(dest);
  try {
    const entries: Record<string, number> = {};
    for (const [name, value] of [
      ["shard_config.json", { type: "ReplicaSet" }],
      ["replica_state.json", { is_local: true, this_peer_id: peer.id, peers: replicas }],
    ] as const) {
      const buf = Buffer.from(JSON.stringify(value));
      await tar.addBuffer(name, buf);
      entries[name] = buf.length;
    }
    entries[SHARD_DATA] = await addShardData(tar, SHARD_DATA, store);
    const manifest: Manifest = { format: FORMAT, version: 1, kind: "shard", entries };
    await tar.addBuffer(MANIFEST, Buffer.from(JSON.stringify(manifest)));
    return await tar.finish();
  } catch (err) {
    await tar.abort();
    throw err;
  }
}

export interface UnpackedShard {
  /** Extracted, validated point log; absent when the snapshot holds no data for this shard. */
  dataFile?: string;
  replicas: Record<string, ReplicaState>;
}

export interface UnpackedCollection {
  config: CollectionConfig;
  payloadSchema: Record<string, Json>;
  shards: Map<number, UnpackedShard>;
}

/** Archive problems are I/O errors in Qdrant: a 500 "File IO error: …". */
function ioError(msg: string): QdrantError {
  return serviceError(`File IO error: ${msg}`);
}

async function openArchive(file: string, kind: Manifest["kind"]): Promise<{ entries: Map<string, TarEntry> }> {
  let list: TarEntry[];
  try {
    list = await readTarEntries(file);
  } catch (err) {
    if (err instanceof TarFormatError) throw ioError("failed to iterate over archive");
    throw err;
  }
  const entries = new Map(list.map((e) => [e.name, e]));
  if (kind === "collection" && entries.get("config.json")?.type !== "file") {
    // Collection::restore_snapshot (lib/collection/src/collection/snapshots.rs) checks for the config
    // before loading it, so a readable tar without one (an empty file too) is bad input, not an I/O error.
    throw badInput("Snapshot archive does not contain a collection config");
  }
  const manifestEntry = entries.get(MANIFEST);
  if (manifestEntry === undefined) {
    // A complete archive always ends with the manifest: without it the file was cut or is not ours.
    throw ioError("failed to iterate over archive");
  }
  let manifest: Manifest;
  try {
    manifest = JSON.parse((await readEntry(file, manifestEntry)).toString("utf8")) as Manifest;
  } catch {
    throw ioError("failed to iterate over archive");
  }
  if (manifest.format !== FORMAT || manifest.kind !== kind) {
    throw serviceError(`Json error: snapshot is not an emulator ${kind} snapshot`);
  }
  for (const [name, size] of Object.entries(manifest.entries)) {
    if (entries.get(name)?.size !== size) throw ioError(`failed to unpack \`${name}\``);
  }
  return { entries };
}

async function readJsonEntry<T>(file: string, entries: Map<string, TarEntry>, name: string): Promise<T> {
  const entry = entries.get(name);
  if (entry === undefined) throw ioError("No such file or directory (os error 2)");
  try {
    return JSON.parse((await readEntry(file, entry)).toString("utf8")) as T;
  } catch {
    throw serviceError(`Json error: invalid JSON in ${name}`);
  }
}

/** Extracts one shard's data into `dest` and checks every record, so recovery never applies garbage. */
async function extractShardData(file: string, entry: TarEntry, dest: string): Promise<void> {
  await extractEntry(file, entry, dest);
  try {
    ShardStore.open(dest, true).close();
  } catch (err) {
    if (err instanceof CorruptShardError) throw ioError(err.message);
    throw err;
  }
}

/** Validates and unpacks a collection snapshot into `staging` without touching any live state. */
export async function unpackCollectionSnapshot(file: string, staging: string): Promise<UnpackedCollection> {
  const { entries } = await openArchive(file, "collection");
  const config = await readJsonEntry<CollectionConfig & { uuid?: string }>(file, entries, "config.json");
  delete config.uuid;
  if (typeof config.params?.shard_number !== "number") throw serviceError("Json error: missing field `params`");
  const payloadIndex = await readJsonEntry<{ schema?: Record<string, Json> }>(file, entries, "payload_index.json");
  const shards = new Map<number, UnpackedShard>();
  for (let s = 0; s < config.params.shard_number; s++) {
    const state = await readJsonEntry<{ peers?: Record<string, ReplicaState> }>(file, entries, `${s}/replica_state.json`);
    const shard: UnpackedShard = { replicas: state.peers ?? {} };
    const data = entries.get(`${s}/${SHARD_DATA}`);
    if (data !== undefined) {
      shard.dataFile = path.join(staging, `shard-${s}.bin`);
      await extractShardData(file, data, shard.dataFile);
    }
    shards.set(s, shard);
  }
  return { config, payloadSchema: payloadIndex.schema ?? {}, shards };
}

/** Validates and unpacks a shard snapshot; returns the extracted point log. */
export async function unpackShardSnapshot(file: string, staging: string): Promise<string> {
  const { entries } = await openArchive(file, "shard");
  const data = entries.get(SHARD_DATA);
  if (data === undefined) throw ioError("No such file or directory (os error 2)");
  const dest = path.join(staging, "shard.bin");
  await extractShardData(file, data, dest);
  return dest;
}
