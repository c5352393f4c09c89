/**
 * decideRollout and statusFor together over a whole rollout, against a small simulated world (the alias,
 * green, the copy Job, the clock): every step carried out as the controller would, each status written by
 * statusFor — with and without the status write lost after each act (a manager killed between the act and
 * its write). Whatever is lost, the rollout ends Promoted with previous deleted, after exactly one switch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CollectionRolloutStatus } from "../../../src/api/v1alpha1/rollout.ts";
import { decideRollout } from "../../../src/controllers/rollout/decide.ts";
import { checkRolloutSpec } from "../../../src/controllers/rollout/spec.ts";
import { statusFor } from "../../../src/controllers/rollout/status.ts";
import type { CopyProgress } from "../../../src/jobs/copy/contract.ts";
import type { ChildState, GateEvaluation, GreenView, Observed, RolloutJobState, RolloutStep, UnrecordedJob } from "../../../src/controllers/rollout/steps.ts";
import { BLUE, FAILING, GREEN, NOW, OURS, PASSING, rollout } from "./decide-world.ts";

interface Sim {
  now: number;
  alias: string | null;
  green: GreenView;
  previousExists: boolean;
  jobs: Map<string, { kind: "copy" | "gate"; n: number; attempt: number; state: RolloutJobState }>;
  switches: number;
  acts: string[];
  restore: ChildState;
}

/** Carries out `step` on the world; returns whether it writes status (acts that change nothing but status do too). */
function act(sim: Sim, step: RolloutStep): void {
  sim.acts.push(step.kind);
  switch (step.kind) {
    case "CreateGreen":
      sim.green = { name: GREEN, exists: true, owner: OURS };
      break;
    case "StartCopy": {
      sim.jobs.set(step.jobName, { kind: "copy", n: step.n, attempt: step.attempt, state: { phase: "Running" } });
      // The Job copies everything in one go (the next look sees it done).
      const done: CopyProgress = { copied: 1000, total: 1000, done: true, attempt: step.attempt };
      sim.green = { ...sim.green, copy: done };
      sim.jobs.get(step.jobName)!.state = { phase: "Succeeded" };
      break;
    }
    case "CreateRestore":
      // The restore runs on its own: one look later it has recovered green (unstamped: the snapshot's metadata).
      sim.restore = { exists: true, ours: true, phase: "Running" };
      break;
    case "StampGreen":
      sim.green = { ...sim.green, owner: OURS };
      break;
    case "StartGateJob":
      sim.jobs.set(step.jobName, { kind: "gate", n: step.n, attempt: 1, state: { phase: "Succeeded" } });
      break;
    case "Switch":
      if (sim.alias !== step.to) sim.switches++;
      sim.alias = step.to;
      break;
    case "DeletePrevious":
      sim.previousExists = false;
      break;
    default:
  }
}

interface Options {
  analysis?: GateEvaluation;
  gateJob?: boolean;
  fromBackup?: boolean;
}

function run(lose: (step: RolloutStep, act: number) => boolean, opts: Options = {}): { sim: Sim; status: CollectionRolloutStatus } {
  const gates = { goldenQueries: [{ name: "top", query: { query: 1 } }], ...(opts.gateJob ? { job: { image: "check:1" } } : {}) };
  const spec = { analysis: { window: "10m" }, gates, retainPrevious: "1h", ...(opts.fromBackup ? { source: { fromBackup: { source: { backupRef: { name: "nightly" } } } } } : {}) };
  let r = rollout(spec);
  const sim: Sim = { now: NOW.getTime(), alias: BLUE, green: { name: GREEN, exists: false }, previousExists: true, jobs: new Map(), switches: 0, acts: [], restore: { exists: false } };
  for (let i = 0; i < 200; i++) {
    const status = r.status ?? {};
    const n = (status.jobCount ?? 0) + 1;
    const unrecorded = [...sim.jobs.entries()].find(([, j]) => j.n === n);
    const o: Observed = {
      now: new Date(sim.now),
      spec: checkRolloutSpec(r.spec),
      unrecorded: unrecorded ? ({ name: unrecorded[0], n, kind: unrecorded[1].kind, attempt: unrecorded[1].attempt } satisfies UnrecordedJob) : null,
      job: status.jobName ? (sim.jobs.get(status.jobName)?.state ?? { phase: "Missing" }) : { phase: "Missing" },
      references: { ok: true },
      holder: null,
      qdrant: {
        reachable: true,
        aliasTarget: sim.alias,
        aliasIsCollection: false,
        green: sim.green,
        source: { name: BLUE, exists: true },
        ...(status.previousCollection ? { previous: { name: status.previousCollection, exists: sim.previousExists } } : {}),
      },
      restore: sim.restore,
      backup: { exists: false },
      gates: PASSING,
      analysis: opts.analysis ?? PASSING,
    };
    const step = decideRollout(r, o);
    if (sim.restore.exists && sim.restore.phase === "Running") {
      sim.restore = { exists: true, ours: true, phase: "Succeeded", targetCollection: GREEN };
      sim.green = { name: GREEN, exists: true };
    }
    assert.notEqual(step.kind, "Observe", "every observation was given");
    if (step.kind === "Done") {
      if (step.requeueMs === undefined) return { sim, status };
      sim.now += step.requeueMs;
      continue;
    }
    act(sim, step);
    if (!lose(step, sim.acts.length - 1)) r = rollout(spec, statusFor(r.status, step, { generation: 1, now: new Date(sim.now), spec: r.spec, name: "v2" }));
    const requeue = "requeueMs" in step && typeof step.requeueMs === "number" ? step.requeueMs : 1;
    sim.now += Math.max(1, Math.min(requeue, 60_000));
  }
  throw new Error(`no end: ${sim.acts.join(" ")}`);
}

test("copyFrom v1 → v2 from Begin to the previous deleted: one switch, Done", () => {
  const { sim, status } = run(() => false);
  assert.equal(sim.switches, 1);
  assert.equal(sim.alias, GREEN);
  assert.equal(sim.previousExists, false);
  assert.deepEqual([status.phase, status.previousCollection, status.analysis?.passed, status.previousDeletedAt !== undefined], ["Promoted", BLUE, true, true]);
  assert.deepEqual(
    sim.acts.filter((k) => !["Validating", "Promoted", "Building"].includes(k)),
    ["Begin", "CreateGreen", "StartCopy", "Switch", "DeletePrevious"],
  );
});

test("the status write lost after any one act: the same end, still exactly one switch", () => {
  const acts = run(() => false).sim.acts.length;
  for (let k = 0; k < acts; k++) {
    const { sim, status } = run((_step, n) => n === k);
    assert.equal(sim.switches, 1, `write ${k} lost: ${sim.acts.join(" ")}`);
    assert.equal(status.phase, "Promoted");
    assert.equal(sim.previousExists, false);
  }
});

test("a gate Job, then a failing analysis: switched back (two switches, never three), whichever write is lost", () => {
  const opts = { gateJob: true, analysis: FAILING };
  const whole = run(() => false, opts);
  assert.deepEqual([whole.status.phase, whole.status.failure?.reason, whole.sim.alias, whole.sim.switches, whole.sim.previousExists], ["RolledBack", "AnalysisFailed", BLUE, 2, true]);
  assert.ok(whole.sim.acts.includes("StartGateJob"));
  for (let k = 0; k < whole.sim.acts.length; k++) {
    const { sim, status } = run((_step, n) => n === k, opts);
    assert.deepEqual([status.phase, sim.alias, sim.switches], ["RolledBack", BLUE, 2], `write ${k} lost: ${sim.acts.join(" ")}`);
  }
});

test("fromBackup: restored, stamped, judged, promoted; any one status write lost changes nothing", () => {
  const whole = run(() => false, { fromBackup: true });
  assert.deepEqual([whole.status.phase, whole.status.restoreName, whole.sim.switches, whole.sim.previousExists], ["Promoted", "rollout-v2", 1, false]);
  assert.ok(whole.sim.acts.includes("StampGreen"));
  for (let k = 0; k < whole.sim.acts.length; k++) {
    const { sim, status } = run((_step, n) => n === k, { fromBackup: true });
    assert.deepEqual([status.phase, sim.switches, sim.green.owner?.uid], ["Promoted", 1, OURS.uid], `write ${k} lost: ${sim.acts.join(" ")}`);
  }
});
