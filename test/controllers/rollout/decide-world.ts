/**
 * The decide tests' world: a rollout, what each observation would find, and a loop that answers each
 * Observe as the controller does, recording which observations were asked for and in what order
 * (laziness is part of the contract: a non-holder never looks at Qdrant, a finished rollout asks nothing).
 */
import assert from "node:assert/strict";
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../../../src/api/v1alpha1/rollout.ts";
import { decideRollout } from "../../../src/controllers/rollout/decide.ts";
import type { GateResult } from "../../../src/controllers/rollout/gates/types.ts";
import { checkRolloutSpec } from "../../../src/controllers/rollout/spec.ts";
import { PLAIN_REASONS, statusFor } from "../../../src/controllers/rollout/status.ts";
import { ERROR_CODES } from "../../../src/errors.ts";
import type { ChildState, GateEvaluation, GreenView, Need, Observed, QdrantView, RolloutJobState, RolloutStep, UnrecordedJob } from "../../../src/controllers/rollout/steps.ts";
import type { RolloutObject } from "../../../src/controllers/rollout/types.ts";

/** Every reason a step may carry: the error registry's and the plain ones status.ts lists. */
export const KNOWN = new Set<string>([...Object.values(ERROR_CODES).map((e) => e.reason), ...PLAIN_REASONS]);

export const NOW = new Date("2026-03-01T12:00:00Z");
export const UID = "9f1b2c3d-4e5f-6789-abcd-ef0123456789";
export const ALIAS = "policies_production";
export const BLUE = "policies_v1";
export const GREEN = "policies_v2";
export const OURS = { namespace: "prod", name: "v2", uid: UID };
export const STRANGER = { namespace: "prod", name: "other", uid: "00000000-0000-0000-0000-000000000000" };

export const at = (offsetMs: number): Date => new Date(NOW.getTime() + offsetMs);
export const iso = (offsetMs: number): string => at(offsetMs).toISOString().replace(/\.\d+Z$/, "Z");

export function rollout(spec: Partial<CollectionRolloutSpec> = {}, status?: CollectionRolloutStatus, generation = 1): RolloutObject {
  return {
    metadata: { name: "v2", namespace: "prod", uid: UID, generation, creationTimestamp: "2026-03-01T00:00:00Z" },
    spec: { connectionRef: { name: "qdrant" }, alias: ALIAS, collection: GREEN, source: { copyFrom: {} }, ...spec },
    ...(status ? { status } : {}),
  };
}

export interface World {
  unrecorded?: UnrecordedJob | null;
  job?: RolloutJobState;
  references?: Observed["references"];
  holder?: { namespace: string; name: string } | null;
  /** Partial view merged over the default (alias → blue, green missing, blue exists). */
  qdrant?: Partial<Extract<QdrantView, { reachable: true }>> | Extract<QdrantView, { reachable: false }>;
  green?: Partial<GreenView>;
  restore?: ChildState;
  backup?: ChildState;
  gates?: GateEvaluation;
  analysis?: GateEvaluation;
  now?: Date;
}

export function view(r: RolloutObject, w: World): QdrantView {
  if (w.qdrant && "reachable" in w.qdrant && w.qdrant.reachable === false) return w.qdrant;
  const q = (w.qdrant ?? {});
  const previous = r.status?.previousCollection;
  return {
    reachable: true,
    aliasTarget: BLUE,
    aliasIsCollection: false,
    source: { name: BLUE, exists: true },
    ...(previous ? { previous: { name: previous, exists: true } } : {}),
    ...q,
    green: { name: GREEN, exists: false, ...q.green, ...w.green },
  };
}

/** Runs decide as the controller does, answering each Observe from `world`; returns the step and the needs asked. */
export function decide(r: RolloutObject, world: World = {}): { step: RolloutStep; needs: Need[] } {
  const o: Observed = { now: world.now ?? NOW, spec: checkRolloutSpec(r.spec) };
  const needs: Need[] = [];
  for (let i = 0; i < 16; i++) {
    const step = decideRollout(r, o);
    if ("reason" in step && typeof step.reason === "string" && step.kind !== "Switch") assert.ok(KNOWN.has(step.reason), `${step.kind} reason ${step.reason} is in neither the registry nor status.ts PLAIN_REASONS`);
    if (step.kind !== "Observe") return { step, needs };
    assert.ok(!needs.includes(step.need), `${step.need} asked twice`);
    needs.push(step.need);
    switch (step.need) {
      case "unrecorded":
        o.unrecorded = world.unrecorded ?? null;
        break;
      case "job":
        o.job = world.job ?? assert.fail("the job was not expected to be read");
        break;
      case "references":
        o.references = world.references ?? { ok: true };
        break;
      case "holder":
        o.holder = world.holder ?? null;
        break;
      case "qdrant":
      case "details":
        o.qdrant = view(r, world);
        o.qdrantDetails = step.need === "details";
        break;
      case "restore":
        o.restore = world.restore ?? { exists: false };
        break;
      case "backup":
        o.backup = world.backup ?? { exists: false };
        break;
      case "gates":
        o.gates = world.gates ?? assert.fail("the gates were not expected to be evaluated");
        break;
      case "analysis":
        o.analysis = world.analysis ?? assert.fail("the analysis was not expected to run");
        break;
    }
  }
  throw new Error("decide looped");
}

export const row = (name: string, passed: boolean, observed?: string, threshold?: string): GateResult => ({ name, passed, ...(observed ? { observed } : {}), ...(threshold ? { threshold } : {}) });
export const PASSING: GateEvaluation = { results: [row("minPoints", true, "1200 points", "≥ 1000"), row("requireGreen", true, "green, optimizer ok", "green, ok")], allPassed: true };
export const FAILING: GateEvaluation = {
  results: [row("minPoints", false, "800 points", "≥ 1000"), row("requireGreen", true, "green, optimizer ok", "green, ok"), row("goldenQuery/top", false, "overlap 0.60 (6/10)", "≥ 0.80")],
  allPassed: false,
};

/** The status a rollout has after `steps`, each written by statusFor at its time, as the controller writes them. */
export function after(r: RolloutObject, ...steps: Array<[RolloutStep, Date?]>): CollectionRolloutStatus {
  let s: CollectionRolloutStatus | undefined = r.status;
  for (const [step, when] of steps) s = statusFor(s, step, { generation: r.metadata?.generation ?? 1, now: when ?? NOW, spec: r.spec, name: r.metadata?.name ?? "" });
  return s ?? {};
}

export const BEGUN: CollectionRolloutStatus = { phase: "Preparing", activeCollection: BLUE, observedGeneration: 1 };
