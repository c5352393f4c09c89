/**
 * Reading and waiting on the operator's objects through kubectl, as a user would, for the tests against the
 * real manager (test/controllers/) and the end-to-end worlds (e2e/helpers/): apply, get, a condition, and
 * polls on an object's status that say what they saw last when they time out.
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { kubectl } from "./kubectl.ts";
import { recordAppliedSecrets } from "./secret-scan.ts";
import { eventually } from "./testenv.ts";

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** An object whose status may carry conditions and a phase. */
export interface WithStatus {
  status?: { conditions?: Cond[]; phase?: string };
}

/** `kubectl apply -n ns`; the values of Secrets among `objects` are recorded for the test's secret scan (secret-scan.ts). */
export const apply = (ns: string, objects: object[]) => {
  recordAppliedSecrets(ns, objects);
  return kubectl(["apply", "-n", ns, "-f", "-"], objects.map((o) => stringify(o)).join("---\n"));
};

/** The object as kubectl prints it; undefined when there is no such object. */
export async function getJson<T>(ns: string, resource: string, name: string): Promise<T | undefined> {
  try {
    return JSON.parse((await kubectl(["get", "-n", ns, resource, name, "-o", "json"])).stdout) as T;
  } catch (err) {
    if (/NotFound|not found/.test((err as { stderr?: string }).stderr ?? "")) return undefined;
    throw err;
  }
}

/** The object, which must exist. */
export async function getExisting<T>(ns: string, resource: string, name: string): Promise<T> {
  const o = await getJson<T>(ns, resource, name);
  assert.ok(o, `${resource}/${name} exists`);
  return o;
}

export const condition = (o: WithStatus | undefined, type: string): Cond | undefined => o?.status?.conditions?.find((c) => c.type === type);

/** Polls `resource` `name` until `accept` returns true for it; the message names `what` and the last status. */
export async function waitForObject<T extends { status?: unknown }>(ns: string, resource: string, name: string, what: string, accept: (o: T) => boolean, timeoutMs = 120_000): Promise<T> {
  let last: unknown;
  try {
    return await eventually(`${resource}/${name}: ${what}`, async () => {
      const o = await getExisting<T>(ns, resource, name);
      last = o.status;
      return accept(o) ? o : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`, { cause: err });
  }
}

/** Waits for `phase`; a phase for which `ended` says true (another end) is reported with the status. */
export function waitForPhaseOf<T extends WithStatus>(ns: string, resource: string, name: string, phase: string, ended: (p: string) => boolean, timeoutMs = 120_000): Promise<T> {
  return waitForObject<T>(ns, resource, name, `phase ${phase}`, (o) => {
    const p = o.status?.phase;
    if (p !== undefined && p !== phase && ended(p)) throw new Error(`ended ${p}: ${JSON.stringify(o.status)}`);
    return p === phase;
  }, timeoutMs);
}

/** Waits until the Ready condition is False with `reason`, and returns the object. */
export function waitForReadyFalse<T extends WithStatus>(ns: string, resource: string, name: string, reason: string, timeoutMs = 90_000): Promise<T> {
  return waitForObject<T>(ns, resource, name, `Ready False ${reason}`, (o) => {
    const ready = condition(o, "Ready");
    return ready?.status === "False" && ready.reason === reason;
  }, timeoutMs);
}
