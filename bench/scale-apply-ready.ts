/**
 * `kubectl apply` → Ready for a new QdrantBackupSchedule while the case's objects are loaded: the time a
 * user waits after applying one. Each schedule is applied with the environment's real kubectl (a process
 * of its own, as a user runs it), one at a time, and its Ready condition read with the admin client every
 * 25 ms until it is True for the schedule's generation. Two figures per schedule: from kubectl's spawn
 * (what the user sees, kubectl's own start included) and from kubectl's exit (the object exists: the
 * manager's part alone, give or take one poll).
 */
import { stringify } from "yaml";
import { QDRANT_BACKUP_SCHEDULES } from "../src/controllers/resources.ts";
import type { KubeObject } from "../src/runtime/resource.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { rank, sleep } from "./scale-manager.ts";
import type { ScaleWorld } from "./scale-world.ts";

interface Schedule extends KubeObject {
  status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string; observedGeneration?: number }> };
}

export interface ApplyReady {
  fromApply: number[];
  fromCreated: number[];
}

const POLL_MS = 25;
const TIMEOUT_MS = 120_000;

export async function applyToReady(world: ScaleWorld, count: number): Promise<ApplyReady> {
  const out: ApplyReady = { fromApply: [], fromCreated: [] };
  const ns = world.namespaces[0]!;
  for (let i = 0; i < count; i++) {
    const name = `applied-${String(i).padStart(3, "0")}`;
    const t0 = Date.now();
    await kubectl(["apply", "-n", ns, "-f", "-"], stringify(world.schedule(ns, name)));
    const t1 = Date.now();
    for (;;) {
      const s = await world.admin.get<Schedule>(QDRANT_BACKUP_SCHEDULES, { namespace: ns, name });
      const ready = s.status?.conditions?.find((c) => c.type === "Ready");
      if (ready?.status === "True" && s.status?.observedGeneration === s.metadata?.generation) break;
      if (Date.now() - t0 > TIMEOUT_MS) throw new Error(`QdrantBackupSchedule ${ns}/${name} not Ready after ${TIMEOUT_MS / 1000} s: ${JSON.stringify(s.status)}`);
      await sleep(POLL_MS);
    }
    const t2 = Date.now();
    out.fromApply.push(t2 - t0);
    out.fromCreated.push(t2 - t1);
  }
  return out;
}

export const p = (xs: number[], q: number) => `${rank(xs, q).toFixed(0)} ms`;
