/**
 * The seam between the rollout's decisions (decide.ts, pure) and its reconcile (controller.ts, which
 * observes and acts): what a reconcile may observe, and the one step a decision returns. As the restore
 * controller's: observations are lazy (`Observe` names the one needed next), so a finished rollout costs
 * nothing and a Validating one costs its gates.
 *
 * Truth after any crash is Qdrant's (where the alias points, whether green exists, whose it is, how far its
 * copy got) and the cluster's (the rollout's Jobs, its QdrantRestore and QdrantBackup, by their names):
 * the status is what the last reconcile wrote, and decide.ts rebuilds the phase from the observations
 * whenever they say more than the status (a switch made before a lost status write is seen as done).
 */
import type { CopyJobSuccess, CopyProgress } from "../../jobs/copy/contract.ts";
import type { CollectionConfig } from "../../qdrant/client.ts";
import type { GateResult } from "./gates/types.ts";
import type { GreenOwner, RolloutJobKind } from "./names.ts";

/** What a Job of the rollout says (copy or gate). Failed: `retryable` as the registry says for its reason. */
export type RolloutJobState =
  | { phase: "Running"; startTime?: string }
  | { phase: "Succeeded"; copy?: CopyJobSuccess; completionTime?: string }
  /** attempt: the Job's ATTEMPT_ANNOTATION (copy Jobs are retried; decide counts them by it); absent: 1. */
  | { phase: "Failed"; reason: string; message: string; retryable: boolean; completionTime?: string; attempt?: number }
  | { phase: "Missing" };

/** A Job of ours named rollout-<name>-<jobCount+1> that the status does not record yet. */
export interface UnrecordedJob {
  name: string;
  n: number;
  kind: RolloutJobKind;
  attempt: number;
}

/** A collection as seen on Qdrant. `points`/`status` only when the observation asked for details. */
export interface CollectionView {
  name: string;
  exists: boolean;
  /** The name is an alias (of `aliasOf`), not a collection. */
  aliasOf?: string;
  /** Exact count (details only). */
  points?: number;
  /** Qdrant's collection status and optimizer status (details only): green/yellow/grey/red, "ok" or an error text. */
  status?: string;
  optimizerOk?: boolean;
  /** indexed_vectors_count and vectors_count-like figure as reported (details only). */
  indexedVectors?: number;
}

export interface GreenView extends CollectionView {
  /** Who green's metadata says created it (names.ts OWNER_METADATA); undefined: nobody we know (a stranger's, or not stamped yet). */
  owner?: GreenOwner;
  /** The copy's own record in green's metadata (COPY_METADATA). */
  copy?: CopyProgress;
}

/**
 * The rollout's Qdrant (its connection's URL): one look at the aliases and at green, plus the active (or copy
 * source) collection and the previous one as the status names them.
 */
export type QdrantView =
  | {
      reachable: true;
      /** Where spec.alias points now; null: there is no such alias. */
      aliasTarget: string | null;
      /** A collection is named like spec.alias (Qdrant forbids the alias then). */
      aliasIsCollection: boolean;
      green: GreenView;
      /** The copy's source (copyFrom.collection, else status.activeCollection, else the alias's target), when there is one. */
      source?: CollectionView;
      /** status.previousCollection, after the switch. */
      previous?: CollectionView;
    }
  | { reachable: false; reason: string; message: string };

export type Check = { ok: true } | { ok: false; reason: string; message: string };

/** The fromBackup QdrantRestore rollout-<name>, as the cluster holds it. */
export type ChildState =
  | { exists: false }
  /** ours: its controller (restore) or its ROLLOUT_UID_ANNOTATION (backup) is this rollout. */
  /** collections: a backup's spec.collections.names (what it backs up). */
  | { exists: true; ours: boolean; phase?: string; reason?: string; message?: string; targetCollection?: string; collections?: string[] };

/** One evaluation of the gates (gates/evaluate.ts): every row, and whether a row can never pass (a refused query). */
export interface GateEvaluation {
  results: GateResult[];
  allPassed: boolean;
  /** A gate Qdrant refused in a way waiting cannot fix (a golden query of the wrong dimension): fail now. */
  fatal?: { reason: string; message: string };
}

export interface Observed {
  now: Date;
  /** Checks the CRD schema and CEL cannot make (spec.ts). */
  spec: Check;
  /** null: looked, none. */
  unrecorded?: UnrecordedJob | null;
  /** The Job status.jobName names. */
  job?: RolloutJobState;
  /** The connection (and its Secrets), and backupActiveFirst's location. */
  references?: Check;
  /** Another rollout holding spec.alias on the same Qdrant (the oldest unfinished one); null: none. */
  holder?: { namespace: string; name: string } | null;
  qdrant?: QdrantView;
  /** With `details`: points counts and statuses too (what the gates and the copy's progress need). */
  qdrantDetails?: boolean;
  restore?: ChildState;
  backup?: ChildState;
  /** Pre-promotion gates (minPoints … goldenQueries, not the gate Job: that is `job`). */
  gates?: GateEvaluation;
  /** Post-promotion checks: the golden queries against green (now active) and the previous collection. */
  analysis?: GateEvaluation;
}

export type Need = "unrecorded" | "job" | "references" | "holder" | "qdrant" | "details" | "restore" | "backup" | "gates" | "analysis";

/** A phase a waiting rollout keeps (its current one) or is put in. */
export type Phase = "Pending" | "Preparing" | "Validating" | "AwaitingPromotion" | "Promoted" | "RolledBack" | "Failed" | "Aborted";

export type RolloutStep =
  | { kind: "Observe"; need: Need }
  | { kind: "Invalid"; reason: string; message: string }
  /** Nothing to do, nothing to write (a finished rollout; requeueMs: look again then, e.g. retainPrevious's time). */
  | { kind: "Done"; requeueMs?: number }
  | { kind: "Adopt"; job: UnrecordedJob }
  /** Wait for something (a holder, a reference, a reachable Qdrant, a stranger's green to go): Ready=False `reason`. */
  | { kind: "Wait"; phase: Phase; reason: string; message: string; requeueMs: number }
  /** First act: record blue (the alias's target now; null when there is no alias yet) and go Preparing. */
  | { kind: "Begin"; activeCollection: string | null }
  /**
   * PUT green with `config` and the owner stamp in its metadata (copyFrom, external with config). `config`
   * absent: copyFrom without config, green is made like the copy `source` (its reported config turned into a
   * CreateCollection body by green-config.ts, read by the act: the decision has no collection configs).
   */
  | { kind: "CreateGreen"; config?: CollectionConfig; source?: string; field: string }
  /** fromBackup: create the QdrantRestore rollout-<name> restoring into green. */
  | { kind: "CreateRestore"; name: string }
  /** fromBackup: the restore succeeded, stamp green's metadata with the owner record. */
  | { kind: "StampGreen" }
  | { kind: "StartCopy"; n: number; jobName: string; attempt: number; source: string; resumeFrom?: string | number }
  /** Status only: green is being built (the copy Job runs, the restore runs, an external pipeline fills it). */
  | { kind: "Building"; message: string; copy?: CopyProgress; requeueMs: number }
  /** Status only: the gates' rows; requeue to evaluate again. gatesStartTime: set when first judged. */
  | { kind: "Validating"; gates: GateEvaluation; message: string; requeueMs: number }
  | { kind: "StartGateJob"; n: number; jobName: string; gates: GateEvaluation }
  /** Manual promotion: every gate passed, waiting for spec.promotion.approved. */
  | { kind: "AwaitPromotion"; gates?: GateEvaluation }
  /** backupActiveFirst: create the QdrantBackup of the active collection. */
  | { kind: "CreateBackup"; name: string; collection: string }
  /**
   * The one POST /collections/aliases: `create_alias` of spec.alias → green (it re-points an existing alias
   * in one action, so there is no moment without it). `from`: what it points at now (null: none).
   */
  | { kind: "Switch"; from: string | null; to: string; reason: "Promote" | "Rollback" | "SwitchBack"; message?: string }
  /** Status only: the alias points at green. adopted: seen so after a lost status write (no switch made now). */
  | { kind: "Promoted"; previous: string | null; adopted: boolean; analysis?: GateEvaluation; analysisEnded?: boolean; requeueMs?: number }
  /** Status only: the alias points back at the previous collection. */
  | { kind: "RolledBack"; reason: string; message: string; adopted: boolean }
  | { kind: "DeletePrevious"; collection: string }
  /**
   * Stop: delete the rollout's running Jobs, and green when this rollout created it (owner stamp), then phase
   * Aborted. A running restore must finish first (it deletes what it claimed itself: decide waits, Aborting);
   * deleteRestore: our QdrantRestore that has not started its Job (Pending), deleted so it never runs after.
   */
  | { kind: "Abort"; deleteJob?: string; deleteGreen: boolean; message: string; deleteRestore?: string }
  /** Failed, alias untouched, green kept for inspection. deleteJob: a running Job to stop first. */
  | { kind: "Fail"; reason: string; message: string; gates?: GateEvaluation; deleteJob?: string };
