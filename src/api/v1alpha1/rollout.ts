/**
 * CollectionRollout: blue/green for collections. Build the green collection, gate it, switch the alias
 * in one request, keep blue for rollback, then delete it. One rollout per alias at a time.
 */
import { Type, type Static } from "@sinclair/typebox";
import { cel, CollectionName, Duration, OpaqueObject, StringEnum } from "../schema-helpers.ts";
import { Conditions, JobSettings, LocalObjectReference } from "./common.ts";
import { BackupSource } from "./restore.ts";

const CollectionConfig = OpaqueObject(
  "Qdrant's CreateCollection body (vectors, shard_number, replication_factor, quantization_config, hnsw_config, on_disk_payload…), passed to PUT /collections/{name} as is.",
);

export const GreenSource = Type.Object(
  {
    fromBackup: Type.Optional(Type.Object({ source: BackupSource, sourceCollection: Type.Optional(CollectionName("Collection within the backup.")) }, { description: "Restore a backup into the green collection." })),
    copyFrom: Type.Optional(
      Type.Object(
        {
          collection: Type.Optional(CollectionName("Collection to copy from; defaults to the active one.")),
          config: Type.Optional(CollectionConfig),
          batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, default: 256 })),
        },
        { description: "Create green with a new config and copy the points (resumable; progress in status)." },
      ),
    ),
    external: Type.Optional(
      Type.Object(
        { config: Type.Optional(CollectionConfig) },
        { description: "Create green (if config is given) or expect it, and wait for your own pipeline to fill it (e.g. a new embedding model)." },
      ),
    ),
  },
  {
    description: "How green gets its data: exactly one of fromBackup, copyFrom, external.",
    ...cel({ rule: "[has(self.fromBackup), has(self.copyFrom), has(self.external)].filter(x, x).size() == 1", message: "set exactly one of fromBackup, copyFrom or external" }),
  },
);

export const GoldenQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 63 }),
  query: OpaqueObject("A Qdrant QueryRequest body (query vector or point id, using, filter…)."),
  topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 10 })),
  minOverlap: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0.8, description: "Required share of the top-k ids that green shares with the active collection." })),
  expectedIds: Type.Optional(Type.Array(Type.Unsafe<string | number>({ "x-kubernetes-int-or-string": true }), { description: "Compare with these ids instead of the active collection's answer." })),
});

export const Gates = Type.Object(
  {
    minPoints: Type.Optional(Type.Integer({ minimum: 0 })),
    pointsWithinPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: "Green's points count within this percent of the active one's." })),
    requireGreen: Type.Optional(Type.Boolean({ description: "Status green and indexing done.", default: true })),
    goldenQueries: Type.Optional(Type.Array(GoldenQuery, { maxItems: 100, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"] })),
    job: Type.Optional(
      Type.Object(
        {
          image: Type.String({ minLength: 1 }),
          command: Type.Optional(Type.Array(Type.String())),
          args: Type.Optional(Type.Array(Type.String())),
          settings: Type.Optional(JobSettings),
        },
        { description: "A Job of yours whose exit code is the verdict; it gets QDRANT_URL, QDRANT_COLLECTION and QDRANT_ACTIVE_COLLECTION." },
      ),
    ),
    timeout: Type.Optional(Duration("Fail the rollout when the gates have not all passed by then.", { default: "1h" })),
  },
  { description: "Checks green must pass before promotion; each reports its numbers in status." },
);

export const RolloutPhase = StringEnum(["Pending", "Preparing", "Validating", "AwaitingPromotion", "Promoted", "RolledBack", "Failed", "Aborted"] as const);

export const CollectionRolloutSpec = Type.Object(
  {
    connectionRef: LocalObjectReference,
    alias: CollectionName("The alias clients use, e.g. policies_production."),
    collection: CollectionName("The green collection to build and promote, e.g. policies_v2."),
    source: GreenSource,
    gates: Type.Optional(Gates),
    promotion: Type.Optional(
      Type.Object({
        mode: StringEnum(["Auto", "Manual"] as const, { description: "Auto: promote when the gates pass. Manual: wait for approved: true.", default: "Auto" }),
        approved: Type.Optional(Type.Boolean({ description: "Manual mode: set to promote.", default: false })),
        backupActiveFirst: Type.Optional(Type.Object({ locationRef: LocalObjectReference }, { description: "Back up the active collection before the switch." })),
      }),
    ),
    analysis: Type.Optional(
      Type.Object(
        { window: Duration("How long to keep checking after promotion."), switchBackOnFailure: Type.Optional(Type.Boolean({ default: true })) },
        { description: "Checks (the gates' golden queries) after promotion, with automatic switch-back." },
      ),
    ),
    retainPrevious: Type.Optional(Duration("Keep the previous collection this long after promotion, then delete it. Absent: keep it forever.")),
    rollback: Type.Optional(Type.Boolean({ description: "Point the alias back at the previous collection.", default: false })),
    abort: Type.Optional(Type.Boolean({ description: "Stop before promotion and delete green if this rollout created it.", default: false })),
    job: Type.Optional(JobSettings),
  },
  {
    description: "A blue/green rollout of a collection behind an alias.",
    ...cel(
      { rule: "self.alias != self.collection", message: "alias and collection must differ: Qdrant forbids an alias with a collection's name", fieldPath: ".alias" },
      { rule: "self.alias == oldSelf.alias && self.collection == oldSelf.collection", message: "alias and collection are immutable; create a new CollectionRollout", fieldPath: ".alias" },
    ),
  },
);
export type CollectionRolloutSpec = Static<typeof CollectionRolloutSpec>;

export const GateResult = Type.Object({
  name: Type.String(),
  passed: Type.Boolean(),
  observed: Type.Optional(Type.String()),
  threshold: Type.Optional(Type.String()),
  message: Type.Optional(Type.String()),
});

export const CollectionRolloutStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  phase: Type.Optional(RolloutPhase),
  activeCollection: Type.Optional(Type.String({ description: "The collection the alias pointed at when the rollout began (blue); empty when the alias did not exist." })),
  previousCollection: Type.Optional(Type.String({ description: "After the switch: the collection the alias pointed at before it (what rollback and switch-back point it at again)." })),
  gates: Type.Optional(Type.Array(GateResult, { description: "The gates' last evaluation, one row per gate, with its observed value and threshold." })),
  gatesStartTime: Type.Optional(Type.String({ format: "date-time", description: "When green was first judged: gates.timeout counts from here." })),
  copy: Type.Optional(
    Type.Object({
      copiedPoints: Type.Integer({ minimum: 0 }),
      totalPoints: Type.Optional(Type.Integer({ minimum: 0 })),
      nextOffset: Type.Optional(Type.Unsafe<string | number>({ "x-kubernetes-int-or-string": true, description: "Where the copy resumes: green's own record of it (Qdrant collection metadata) mirrored here." })),
      done: Type.Optional(Type.Boolean()),
    }),
  ),
  jobName: Type.Optional(Type.String({ description: "The rollout's current (or last) Job: a copy or a gate Job." })),
  jobCount: Type.Optional(Type.Integer({ minimum: 0, description: "Jobs this rollout has started: the next is rollout-<name>-<jobCount+1>." })),
  restoreName: Type.Optional(Type.String({ description: "fromBackup: the QdrantRestore that builds green." })),
  backupName: Type.Optional(Type.String({ description: "backupActiveFirst: the QdrantBackup of the active collection taken before the switch." })),
  promotedAt: Type.Optional(Type.String({ format: "date-time" })),
  analysis: Type.Optional(
    Type.Object(
      {
        endTime: Type.Optional(Type.String({ format: "date-time" })),
        lastCheckTime: Type.Optional(Type.String({ format: "date-time" })),
        passed: Type.Optional(Type.Boolean({ description: "Set when the window ended with every check passing." })),
        results: Type.Optional(Type.Array(GateResult)),
      },
      { description: "Post-promotion checks (analysis.window)." },
    ),
  ),
  rolledBackAt: Type.Optional(Type.String({ format: "date-time" })),
  previousDeletedAt: Type.Optional(Type.String({ format: "date-time" })),
  failure: Type.Optional(Type.Object({ reason: Type.String(), message: Type.String() }, { description: "Why the rollout failed, rolled back or was aborted." })),
});
export type CollectionRolloutStatus = Static<typeof CollectionRolloutStatus>;
