/**
 * The manifest: the record of one backup of one collection (or of the whole storage), written as
 * `manifest.json` after every snapshot object of the backup is uploaded. Its presence is what makes the
 * backup exist. It holds everything a restore needs with no Kubernetes object at hand: what was backed up,
 * from which Qdrant and peers, which shards each peer's file holds, each file's key, size and sha256,
 * the points count to verify against, the collection's config and aliases, and where it came from.
 *
 * Designed ahead for the roadmap, so that v1 readers refuse what they cannot do instead of misreading it:
 * - per file, `compression` (zstd) and `encryption` (scheme + key reference, never the key), with
 *   `stored` giving the object's own size and sha256; `size`/`sha256` are always those of the snapshot as
 *   Qdrant made it, which is the checksum Qdrant's recover verifies;
 * - `mode: FullStorage` with a `storage` section (collections and their aliases) instead of `collection`;
 * - `objectLock` (S3 Object Lock retain-until), which retention must respect.
 * `excluded` says which collections a backup of `all` or a pattern left out on purpose, and why, so a
 * reader of the bucket can tell "not backed up" from "did not exist".
 * Unknown fields are allowed (a later operator may add optional ones); a breaking change is a new
 * version string, and parseManifest refuses versions it does not know.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { GROUP } from "../../api/group.ts";
import { CollectionName, StringEnum } from "../../api/schema-helpers.ts";
import { isBackupId } from "./backup-id.ts";

export const MANIFEST_VERSION = `${GROUP}/manifest/v1`;
/** Larger than any real manifest (a collection config is a few KiB): refuse before parsing garbage. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const Sha256 = (description: string) => Type.String({ pattern: "^[0-9a-f]{64}$", description });
const Time = (description: string) => Type.String({ format: "date-time", description });
const PeerId = Type.String({ pattern: "^[0-9]{1,20}$", description: "Qdrant peer id (a u64, in decimal)." });
/**
 * Counts and sizes: at most 2^53 - 1, the largest integer JSON readers (and this one) hold exactly. A
 * bigger one is no size any store holds, and it would reach a status or a Job's plan rounded (or as
 * 1e+300, which the apiserver refuses as an integer).
 */
const Count = (options: { description?: string } = {}) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, ...options });
/** Qdrant's shard ids are u32. */
const ShardIds = (description: string) => Type.Array(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }), { description });
const Opaque = (description: string) => Type.Unsafe<Record<string, unknown>>({ type: "object", description });

export const ManifestFile = Type.Object({
  key: Type.String({ minLength: 1, description: "Object key, in the same bucket." }),
  size: Count({ description: "Bytes of the snapshot as Qdrant made it." }),
  sha256: Sha256("SHA-256 of the snapshot as Qdrant made it: Qdrant's own checksum, passed to recover."),
  qdrantSnapshotName: Type.Optional(Type.String({ description: "The snapshot's file name on the peer, e.g. docs-123-2026-01-15-02-00-04.snapshot." })),
  compression: Type.Optional(
    Type.Object({ algorithm: StringEnum(["zstd"] as const), level: Type.Optional(Type.Integer({ minimum: 1, maximum: 22 })) }, { description: "Set when the object is compressed." }),
  ),
  encryption: Type.Optional(
    Type.Object(
      {
        scheme: Type.String({ minLength: 1, description: "Client-side encryption scheme and its version." }),
        keyRef: Type.String({ minLength: 1, description: "Which key (e.g. Secret name/key and a fingerprint); never the key itself." }),
        parameters: Type.Optional(Opaque("Scheme-specific, non-secret parameters (nonces, wrapped data key).")),
      },
      { description: "Set when the object is encrypted (after compression)." },
    ),
  ),
  stored: Type.Optional(
    Type.Object(
      { size: Count(), sha256: Sha256("SHA-256 of the object's bytes.") },
      { description: "The object's own bytes, when compression or encryption makes them differ from the snapshot's." },
    ),
  ),
});
export type ManifestFile = Static<typeof ManifestFile>;

export const ManifestPeer = Type.Object({
  peerId: PeerId,
  shardIds: Type.Optional(ShardIds("Collection mode: the collection's shards with a replica on this peer, i.e. whose data this peer's file holds.")),
  collections: Type.Optional(
    Type.Array(Type.Object({ name: CollectionName("A collection."), shardIds: ShardIds("Its shards with a replica on this peer.") }), {
      description: "FullStorage mode: per collection, the shards with a replica on this peer.",
    }),
  ),
  snapshotStartTime: Type.Optional(Time("When the snapshot was requested from this peer.")),
  snapshotEndTime: Type.Optional(Time("When this peer finished it.")),
  file: ManifestFile,
});
export type ManifestPeer = Static<typeof ManifestPeer>;

export const ManifestCollection = Type.Object({
  name: CollectionName("The collection (never an alias)."),
  pointsCount: Count({ description: "Exact points count when the snapshots were taken; restores verify against it." }),
  aliases: Type.Array(Type.String(), { description: "Aliases that pointed at the collection; collection snapshots do not contain them." }),
  config: Opaque("The collection's config as Qdrant's GET /collections/{name} returned it (params, hnsw, optimizers, quantization…)."),
});

export const ManifestStorage = Type.Object({
  collections: Type.Array(
    Type.Object({
      name: CollectionName("A collection in the storage snapshot."),
      pointsCount: Type.Optional(Count()),
      aliases: Type.Array(Type.String()),
    }),
    { description: "The collections of a FullStorage snapshot, with their aliases." },
  ),
});

export const Manifest = Type.Object({
  version: Type.Literal(MANIFEST_VERSION),
  backupId: Type.String({ description: "The backup id, as in the object keys." }),
  mode: StringEnum(["Collection", "FullStorage"] as const),
  source: Type.Object(
    {
      namespace: Type.String({ minLength: 1 }),
      connection: Type.String({ minLength: 1, description: "The QdrantConnection's name." }),
      backupName: Type.String({ minLength: 1, description: "The QdrantBackup's name." }),
      backupUid: Type.String({ minLength: 1, description: "The QdrantBackup's uid." }),
      scheduleName: Type.Optional(Type.String({ description: "The QdrantBackupSchedule that created it, if any." })),
      scheduledTime: Type.Optional(Time("The schedule's tick.")),
      clusterId: Type.Optional(Type.String({ description: "An id of the Kubernetes cluster (e.g. the kube-system namespace's uid), telling apart clusters that share a bucket." })),
    },
    { description: "Where the backup came from." },
  ),
  operator: Type.Object({ version: Type.String({ minLength: 1 }) }),
  qdrant: Type.Object({
    version: Type.String({ minLength: 1, description: "Qdrant's version (GET /)." }),
    distributed: Type.Boolean(),
  }),
  collection: Type.Optional(ManifestCollection),
  storage: Type.Optional(ManifestStorage),
  excluded: Type.Optional(
    Type.Array(Type.Object({ name: CollectionName("A collection the backup's selector matched."), reason: Type.String({ minLength: 1, description: "Why it was left out." }) }), {
      description:
        "Collection mode with `all` or a pattern: the collections the selector matched and the backup left out because the operator was building them (a restore drill's temporary collection, a rollout's green collection before promotion). The same list in every manifest of the backup.",
    }),
  ),
  peers: Type.Array(ManifestPeer, { minItems: 1, description: "One snapshot file per peer." }),
  timings: Type.Object({
    startTime: Time("When the backup started."),
    snapshotStartTime: Type.Optional(Time("When the first peer's snapshot was requested.")),
    snapshotEndTime: Type.Optional(Time("When the last peer's snapshot was done: the backup's point in time lies in between.")),
    completionTime: Time("When the manifest was written."),
  }),
  objectLock: Type.Optional(
    Type.Object({ mode: StringEnum(["Governance", "Compliance"] as const), retainUntil: Time("Objects cannot be deleted before this.") }, { description: "S3 Object Lock on the backup's objects." }),
  ),
});
export type Manifest = Static<typeof Manifest>;

/** The bytes the backup's objects take in the bucket: each file's stored size (compressed, encrypted) or its snapshot's. */
export function storedBytes(m: Pick<Manifest, "peers">): number {
  return m.peers.reduce((n, p) => n + (p.file.stored?.size ?? p.file.size), 0);
}

export type ParseManifestResult = { ok: true; manifest: Manifest } | { ok: false; error: string };

const ajv = new Ajv({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validateSchema = ajv.compile<Manifest>(JSON.parse(JSON.stringify(Manifest)) as Record<string, unknown>);

/**
 * Reads a manifest (the object's bytes or text). Returns the manifest, or an error that says what is
 * wrong: not JSON, a version this operator does not know, the fields that break the schema, or
 * inconsistencies. With `key` (where it was read from), also checks that the manifest describes that
 * backup and that its files sit beside it, so a manifest copied elsewhere is not trusted.
 */
export function parseManifest(input: string | Uint8Array, options: { key?: string } = {}): ParseManifestResult {
  const where = options.key === undefined ? "manifest" : `manifest ${options.key}`;
  const fail = (why: string): ParseManifestResult => ({ ok: false, error: `${where} is corrupt: ${why}` });

  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.byteLength;
  if (size === 0) return fail("it is empty");
  if (size > MAX_MANIFEST_BYTES) return fail(`it is ${size} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})`);
  let text: string;
  try {
    text = typeof input === "string" ? input : new TextDecoder("utf-8", { fatal: true }).decode(input);
  } catch {
    return fail("it is not UTF-8 text");
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail(`it is not JSON (${(err as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return fail("it is not a JSON object");

  const version = (data as { version?: unknown }).version;
  if (version !== MANIFEST_VERSION) {
    if (typeof version === "string" && version.startsWith(`${GROUP}/manifest/`)) {
      return { ok: false, error: `${where} has version ${version}, which this operator does not read (it reads ${MANIFEST_VERSION}): use an operator version that does` };
    }
    return fail(`no "version": "${MANIFEST_VERSION}" field, so it is not a qdrant-operator manifest`);
  }
  if (!validateSchema(data)) return fail(describeErrors(validateSchema.errors ?? []));
  const problems = consistencyProblems(data, options.key);
  if (problems.length > 0) return fail(problems.join("; "));
  return { ok: true, manifest: data };
}

/** The manifest as written to the bucket: checked, then JSON with a trailing newline. Throws if invalid. */
export function serializeManifest(manifest: Manifest, key?: string): string {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const check = parseManifest(text, key === undefined ? {} : { key });
  if (!check.ok) throw new Error(`refusing to write an invalid manifest: ${check.error}`);
  return text;
}

/** What the schema cannot say. */
function consistencyProblems(m: Manifest, key: string | undefined): string[] {
  const out: string[] = [];
  if (!isBackupId(m.backupId)) out.push(`backupId ${JSON.stringify(m.backupId)} is not a backup id`);
  if (m.mode === "Collection") {
    if (m.collection === undefined) out.push("mode Collection needs a collection section");
    if (m.storage !== undefined) out.push("mode Collection cannot have a storage section");
    m.peers.forEach((p, i) => {
      if (p.shardIds === undefined) out.push(`peers[${i}].shardIds is required in mode Collection`);
    });
  } else {
    if (m.storage === undefined) out.push("mode FullStorage needs a storage section");
    if (m.collection !== undefined) out.push("mode FullStorage cannot have a collection section");
    // A storage snapshot holds every collection: it cannot leave one out.
    if (m.excluded !== undefined) out.push("mode FullStorage cannot have excluded collections");
  }
  const peerIds = new Set<string>();
  const keys = new Set<string>();
  m.peers.forEach((p, i) => {
    if (peerIds.has(p.peerId)) out.push(`peers[${i}]: peer ${p.peerId} is listed twice`);
    peerIds.add(p.peerId);
    if (keys.has(p.file.key)) out.push(`peers[${i}].file.key ${p.file.key} is used twice`);
    keys.add(p.file.key);
    if ((p.file.compression !== undefined || p.file.encryption !== undefined) && p.file.stored === undefined) {
      out.push(`peers[${i}].file.stored is required when the file is compressed or encrypted`);
    }
  });
  if (Date.parse(m.timings.completionTime) < Date.parse(m.timings.startTime)) out.push("timings.completionTime is before timings.startTime");
  if (key !== undefined) {
    const dir = key.slice(0, key.lastIndexOf("/") + 1);
    const idInKey = dir.split("/").at(-2);
    if (idInKey !== m.backupId) out.push(`backupId ${m.backupId} is not the id in its key (${idInKey ?? "none"})`);
    m.peers.forEach((p, i) => {
      if (!p.file.key.startsWith(dir) || p.file.key.slice(dir.length).includes("/")) out.push(`peers[${i}].file.key ${p.file.key} is not beside the manifest`);
    });
  }
  return out;
}

function describeErrors(errors: ErrorObject[]): string {
  const shown = errors.slice(0, 5).map((e) => {
    const path = e.instancePath
      .split("/")
      .slice(1)
      .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === "" ? part : `${acc}.${part}`), "");
    const field = e.keyword === "required" ? [path, (e.params as { missingProperty: string }).missingProperty].filter((s) => s !== "").join(".") : path || "(root)";
    return e.keyword === "required" ? `${field} is missing` : `${field} ${e.message ?? "is invalid"}`;
  });
  const more = errors.length > shown.length ? ` (and ${errors.length - shown.length} more)` : "";
  return `${shown.join("; ")}${more}`;
}
