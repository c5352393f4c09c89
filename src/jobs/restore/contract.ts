/**
 * The contract between the QdrantRestore controller and the `job restore` command its Jobs run, as
 * TypeBox schemas (the same protocol as every Job: src/jobs/protocol/). The controller resolves the
 * source (selectBackup), reads and checks the manifest, checks the target and the topology, and hands
 * the Job a plan with everything the manifest says that the Job needs; the Job recovers, verifies and
 * reports. Alias switches and a drill's deletion of its temporary collection are the controller's (one
 * request each, after the Job succeeded).
 *
 * Input: the plan as JSON in RESTORE_PLAN (nothing secret in it: the Job presigns its own URLs with the
 * location's credentials, which come by secretKeyRef like every Job's), plus every Job's environment; for
 * an encrypted backup, the location's age key file in ENCRYPTION_KEYS, by secretKeyRef too (the plan
 * names only the key the backup was made with, as its manifest does: encryption.keyRef).
 *
 * Output: one JSON line (RestoreJobResult) in the container's termination message, and the exit code.
 *
 * Attempts and who owns the target. A restore Job runs one pod (backoffLimit 0): retries are the
 * controller's, each a new Job with its own plan, so that a retry can be told what an earlier attempt did.
 * Before its first call that may create the target collection, the Job writes a provisional failure
 * with a `claim` (RestoreClaim) into its termination message: "the target did not exist when I looked,
 * and I am about to create it". If the pod is killed (SIGKILL, OOM), that message is what the kubelet
 * keeps, and the controller starts the next attempt with `ownedTarget: true`: the retry may then replace
 * the half-created collection. A collection a person created before the claim never carries it (the
 * claiming attempt checked it was absent right before), so it is never replaced without `overwrite`.
 * Window: one a person creates under that very name after a claimed attempt died and before the next
 * attempt runs is taken for the half-made one and replaced (or, after the last attempt, deleted). A pod
 * lost with its node leaves no message: then the target is not known to be ours and the restore waits
 * as `TargetExists`, saying an earlier attempt may have half-created it. A claim is inherited: an
 * attempt with `ownedTarget` writes it again before anything else, so it survives an attempt that fails
 * before it gets to the target.
 */
import { Type, type Static } from "@sinclair/typebox";
import { StringEnum } from "../../api/schema-helpers.ts";
import { JOB_ENV } from "../protocol/env.ts";
import { HttpUrl, QdrantPlan } from "../protocol/qdrant-plan.ts";
import type { JobFailure } from "../protocol/failure.ts";
import { DROP_INVALID_ITEMS } from "../protocol/schema-check.ts";

/** Environment variables of the restore Job's container: its plan, and every Job's (src/jobs/protocol/env.ts). */
export const RESTORE_ENV = { plan: "RESTORE_PLAN", ...JOB_ENV } as const;

const Name = (description?: string) => Type.String({ minLength: 1, ...(description ? { description } : {}) });
const Count = Type.Integer({ minimum: 0 });
const Sha256 = Type.String({ pattern: "^[0-9a-f]{64}$" });

/** One source peer's file, as the manifest lists it. */
export const RestorePeerFile = Type.Object({
  /** The source peer's id (the manifest's peers[].peerId). */
  sourcePeerId: Name(),
  /** Collection mode: the shards whose data the file holds; FullStorage: those of sourceCollection. */
  shardIds: Type.Array(Type.Integer({ minimum: 0 })),
  key: Name("Object key in the plan's bucket."),
  /** Bytes and SHA-256 of the snapshot as Qdrant made it (the checksum Qdrant's recover verifies). */
  size: Count,
  sha256: Sha256,
  /** The object's own bytes, when they differ (compressed or encrypted): checked while the Job streams them. */
  stored: Type.Optional(Type.Object({ size: Count, sha256: Sha256 })),
  /** The manifest's codec: the Job decompresses while it streams (method Upload only). */
  compression: Type.Optional(Type.Object({ algorithm: Type.Literal("zstd") })),
  /** The manifest's encryption: the Job decrypts with the ENCRYPTION_KEYS key file (method Upload only). */
  encryption: Type.Optional(Type.Object({ scheme: Type.Literal("age-v1"), keyRef: Type.Optional(Type.String()) })),
});
export type RestorePeerFile = Static<typeof RestorePeerFile>;

export const RestoreJobPlan = Type.Object({
  version: Type.Literal(1),
  /** The QdrantRestore, for messages and for the claim. */
  restore: Type.Object({ namespace: Name(), name: Name(), uid: Name() }),
  /** Which attempt this Job is (1, 2, …), and the Job's name: what a claim records. */
  attempt: Type.Integer({ minimum: 1 }),
  backupId: Name(),
  mode: StringEnum(["Collection", "FullStorage"] as const),
  /** The collection inside the backup (FullStorage: the one taken out of each peer's archive). */
  sourceCollection: Name(),
  /** The collection to create (or, with overwrite, replace in place). Never an alias: checked by the controller and again by the Job. */
  targetCollection: Name(),
  /** Pull: each peer recovers from a presigned URL (nothing flows through the Job). Upload: the Job streams each object into Qdrant. */
  method: StringEnum(["Pull", "Upload"] as const),
  priority: StringEnum(["snapshot", "replica", "no_sync"] as const),
  /** Replace an existing target in place (spec.overwrite). */
  overwrite: Type.Boolean(),
  /** An earlier attempt of this restore claimed the target (see the module comment): an existing target is that attempt's half-made collection, and is replaced. */
  ownedTarget: Type.Boolean(),
  files: Type.Array(RestorePeerFile, { minItems: 1 }),
  /** The manifest's points count (collection mode; a FullStorage manifest's per-collection count when it has one). */
  expectedPoints: Type.Optional(Count),
  verify: Type.Object({
    waitForGreen: Type.Boolean(),
    comparePointsCount: Type.Boolean(),
    /** From the Job's start to verified; past it the Job fails VerificationTimeout. */
    timeoutSeconds: Type.Integer({ minimum: 1 }),
  }),
  /** The target Qdrant: the restore's own connection (a backup of another Qdrant restores here: migrations). Same shape as the backup Job's. */
  qdrant: QdrantPlan,
  s3: Type.Object({
    bucket: Name(),
    region: Name(),
    endpoint: Type.Optional(HttpUrl),
    forcePathStyle: Type.Boolean(),
  }),
  /** Pull: how long each presigned URL is valid. */
  presignSeconds: Type.Integer({ minimum: 60, maximum: 604_800 }),
});
export type RestoreJobPlan = Static<typeof RestoreJobPlan>;

/** Which target peer recovered which source peer's file. */
export const RestorePeerResult = Type.Object({ sourcePeerId: Type.String(), targetPeerId: Type.String(), bytes: Count });

export const RestoreJobSuccess = Type.Object({
  ok: Type.Literal(true),
  backupId: Type.String(),
  targetCollection: Type.String(),
  method: StringEnum(["Pull", "Upload"] as const),
  startTime: Type.String(),
  /** When the last peer's recover call returned. */
  recoveredTime: Type.String(),
  /** When the checks passed: status.durationSeconds is from the restore's start to this. */
  verifiedTime: Type.String(),
  /** Bytes recovered (the snapshots' sizes; Upload: the bytes streamed). */
  bytes: Count,
  pointsCount: Type.Object({ expected: Type.Optional(Count), actual: Count }),
  /** True when this attempt created the collection (false: it replaced one in place). */
  created: Type.Boolean(),
  /** Dropped when the message would exceed 4 KiB. */
  peers: Type.Optional(Type.Array(RestorePeerResult, { [DROP_INVALID_ITEMS]: true })),
});
export type RestoreJobSuccess = Static<typeof RestoreJobSuccess>;

/** Written (as a failure with this field) before the first call that may create the target. */
export const RestoreClaim = Type.Object({
  collection: Type.String(),
  attempt: Type.Integer({ minimum: 1 }),
});
export type RestoreClaim = Static<typeof RestoreClaim>;

/** A restore Job's failure: every Job's, plus the claim when the target may have been half-created by it. */
export type RestoreJobFailure = JobFailure & { claim?: RestoreClaim };

export type RestoreJobResult = RestoreJobSuccess | RestoreJobFailure;
