/**
 * What the CollectionRollout end-to-end tests share, on top of the backup and restore worlds
 * (e2e/helpers/backup-world.ts and restore-world.ts, imported, never copied): a blue/green setting on the
 * Qdrant of a backup world (the world's seeded 20-point collection is blue, an alias of the test's own
 * points at it, green is a fresh name), a CollectionRollout builder, readers for its status, conditions,
 * Jobs and Events, and the Qdrant facts a rollout is judged by: where the alias points, which collections
 * exist, what points they hold, green's own records (owner stamp, copy progress) in its metadata.
 *
 * Every name on Qdrant is the test's own (the shared emulator serves every test file at once) and is
 * deleted when the test ends: green, the alias, and whatever else the test names.
 *
 * Readiness is always a status, a Qdrant answer or a fault's `fired` count, polled with `eventually`.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { COPY_METADATA, OWNER_METADATA } from "../../src/controllers/rollout/names.ts";
import { QdrantApi, type PointStruct } from "../../src/qdrant/client.ts";
import { condition, getExisting, waitForObject, waitForPhaseOf, waitForReadyFalse, type Cond } from "../../test/helpers/kube-objects.ts";
import type { AdminClient } from "../../test/emulator/admin-client.ts";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { rolloutObj, type Rollout } from "../../test/helpers/rollouts.ts";
import { eventually } from "../../test/helpers/testenv.ts";
import { allPoints, apply, world, type World, type WorldOptions } from "./backup-world.ts";
import { aliases, cleanupOnQdrant, collectionExists, collectionNames, createAlias, eventsOf, jobsNamed, qdrantCall, type JobObj } from "./restore-world.ts";

export { OWNER_METADATA, COPY_METADATA };

export { rolloutObj, type GateRow, type Rollout } from "../../test/helpers/rollouts.ts";

export const getRollout = (ns: string, name: string): Promise<Rollout> => getExisting<Rollout>(ns, "collectionrollout", name);
export const rolloutCondition = (r: Rollout, type: string): Cond | undefined => condition(r, type);
/** "status reason" of a condition, for one-line asserts. */
export const conditionSummary = (r: Rollout, type: string): string => {
  const c = rolloutCondition(r, type);
  return c ? `${c.status} ${c.reason}` : "absent";
};

/** Polls the rollout until `accept` returns true for it; the message names `what` and the last status. */
export function waitForRollout(ns: string, name: string, what: string, accept: (r: Rollout) => boolean, timeoutMs = 120_000): Promise<Rollout> {
  return waitForObject(ns, "collectionrollout", name, what, accept, timeoutMs);
}

const FINAL = ["Promoted", "RolledBack", "Failed", "Aborted"];

/** Waits for `phase`, failing at once when the rollout settles in another final phase (Promoted counts as one). */
export function waitForRolloutPhase(ns: string, name: string, phase: string, timeoutMs = 120_000): Promise<Rollout> {
  return waitForPhaseOf<Rollout>(ns, "collectionrollout", name, phase, (p) => FINAL.includes(p) && !(phase === "RolledBack" && p === "Promoted"), timeoutMs);
}

/** Waits until the Ready condition is False with `reason`, and returns the rollout. */
export function waitForRolloutReason(ns: string, name: string, reason: string, timeoutMs = 90_000): Promise<Rollout> {
  return waitForReadyFalse<Rollout>(ns, "collectionrollout", name, reason, timeoutMs);
}

/** `kubectl patch --type merge` of the rollout's spec (approved, rollback, abort…). */
export async function patchRolloutSpec(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  await kubectl(["patch", "-n", ns, "collectionrollout", name, "--type", "merge", "-p", JSON.stringify({ spec })]);
}

/** The rollout's Events as "reason: note" lines. */
export const rolloutEvents = (ns: string, name: string): Promise<string[]> => eventsOf(ns, name);

/** The Events with `reason`, once at least `atLeast` of them are recorded (Events are written fire-and-forget). */
export async function eventsWithReason(ns: string, name: string, reason: string, atLeast = 1): Promise<string[]> {
  return eventually(`${atLeast} ${reason} Event(s) of collectionrollout/${name}`, async () => {
    const found = (await rolloutEvents(ns, name)).filter((e) => e.startsWith(`${reason}: `));
    return found.length >= atLeast ? found : undefined;
  }, 30_000);
}

/**
 * Exactly one Switched Event, "Switched alias <alias> to <to> (from <from>)" (waited for: Events are
 * written fire-and-forget), and no second one.
 */
export async function assertOneSwitch(ns: string, name: string, alias: string, to: string, from: string): Promise<void> {
  const switched = await eventsWithReason(ns, name, "Switched").catch(async (err: Error) => {
    throw new Error(`${err.message}; the rollout's Events: ${(await rolloutEvents(ns, name)).join(" | ")}`, { cause: err });
  });
  assert.equal(switched.length, 1, switched.join(" | "));
  assert.equal(switched[0]!.replace(/\.$/, ""), `Switched: Switched alias ${alias} to ${to} (from ${from})`);
}

export type RolloutJob = JobObj;

/** The namespace's Jobs named rollout-…, in name order. */
export const rolloutJobs = (ns: string): Promise<RolloutJob[]> => jobsNamed(ns, "rollout-");

/** Where `alias` points on the Qdrant at `url` (null: no such alias). */
export async function aliasTarget(url: string, alias: string, apiKey?: string): Promise<string | null> {
  return (await aliases(url, apiKey)).find((a) => a.alias_name === alias)?.collection_name ?? null;
}

/** A collection's metadata (Qdrant ≥ 1.16 keeps arbitrary JSON per collection): green's owner stamp and copy record live there. */
export async function collectionMetadata(url: string, collection: string, apiKey?: string): Promise<Record<string, unknown>> {
  const info = await qdrantCall<{ config: { metadata?: Record<string, unknown> } }>(url, `/collections/${collection}`, apiKey);
  return info.config.metadata ?? {};
}

/** A collection's config as Qdrant reports it (params, quantization_config…). */
export async function collectionConfig(url: string, collection: string, apiKey?: string): Promise<{ params: Record<string, unknown>; quantization_config?: unknown; [k: string]: unknown }> {
  return (await qdrantCall<{ config: { params: Record<string, unknown> } }>(url, `/collections/${collection}`, apiKey)).config;
}

/** The ids of the top-`limit` answer to a Query API body, as strings. */
export async function queryIds(url: string, collection: string, body: Record<string, unknown>, limit: number, apiKey?: string): Promise<string[]> {
  const res = await qdrantCall<{ points: Array<{ id: string | number }> }>(url, `/collections/${collection}/points/query`, apiKey, { method: "POST", body: { ...body, limit, with_payload: false } });
  return res.points.map((p) => String(p.id));
}

/** The world's own Qdrant adapter (its key, its URL). */
export const apiOf = (w: World, url = w.qdrant.url): QdrantApi => new QdrantApi({ url, apiKey: w.apiKey, timeoutMs: 30_000 });

/** Every point of `collection` on the world's Qdrant, in id order. */
export const pointsOf = (w: World, collection: string, url = w.qdrant.url): Promise<unknown[]> => allPoints(url, collection, w.apiKey);

/**
 * A copy holds the source's points: the same ids in the same order, the same payloads, and the same
 * vectors to within f32 rounding. Not bit for bit: Qdrant normalises a Cosine collection's vectors on every
 * insert, and normalising a vector that is already of unit length again can move its last digit (seen on
 * the emulator with 1000 points: 0.012511097 for 0.012511098), so a copy through upserts cannot promise the
 * exact floats a snapshot restore keeps.
 */
export function assertSamePoints(actual: unknown[], expected: unknown[], what: string): void {
  type P = { id: unknown; payload?: unknown; vector?: unknown };
  const [a, e] = [actual as P[], expected as P[]];
  assert.deepEqual(a.map((p) => p.id), e.map((p) => p.id), `${what}: the same ids`);
  assert.deepEqual(a.map((p) => p.payload), e.map((p) => p.payload), `${what}: the same payloads`);
  for (const [i, p] of a.entries()) {
    const [va, ve] = [p.vector as number[], e[i]!.vector as number[]];
    assert.equal(va.length, ve.length, `${what}: point ${String(p.id)}'s vector size`);
    for (const [k, x] of va.entries()) assert.ok(Math.abs(x - ve[k]!) <= 1e-6, `${what}: point ${String(p.id)}'s vector [${k}] ${x} vs ${ve[k]}`);
  }
}

/** A point of the world's collection as Qdrant returns it. */
export type Point = { id: number; vector: number[]; payload?: Record<string, unknown> | null };
type SomePoint = { id: number | string; vector: number[]; payload?: Record<string, unknown> | null };

/** Each point with another point's vector (a fixed shuffle): a collection whose neighbours are not `blue`'s. */
export function scrambledPoints(blue: SomePoint[]): Array<{ id: number | string; vector: number[]; payload: Record<string, unknown> }> {
  return blue.map((p, i) => ({ id: p.id, vector: blue[(i * 7 + 3) % blue.length]!.vector, payload: p.payload ?? {} }));
}

/**
 * The world's 20 points with each vector written twice over (8 dimensions instead of 4): a "new embedding
 * model" whose cosine neighbours are the old model's, so a golden query by point id finds the same ids in
 * both. `scramble` instead gives each point another point's vector: a model whose neighbours differ.
 */
export function eightDimPoints(blue: SomePoint[], scramble = false): PointStruct[] {
  return (scramble ? scrambledPoints(blue) : blue).map((p) => ({ id: p.id, vector: [...p.vector, ...p.vector], payload: p.payload ?? {} }));
}

/** A fresh name on the world's Qdrant for green (or anything else), deleted when the test ends. */
export function ownName(t: TestContext, w: World, suffix: string): string {
  const name = `${w.collection}_${suffix}`;
  cleanupOnQdrant(t, w.qdrant.url, w.apiKey, [name]);
  return name;
}

export interface BlueGreen {
  /** The alias clients query, pointing at blue; the test's own. */
  alias: string;
  /** The world's seeded 20-point collection. */
  blue: string;
  /** A free name for the green collection (deleted when the test ends). */
  green: string;
}

/**
 * Blue/green on the world's Qdrant: `alias` → blue (the world's collection unless `opts.blue` names
 * another), and a free name for green. Both the alias and green are removed when the test ends. `suffix`
 * keeps several rollouts of one world apart.
 */
export async function blueGreen(t: TestContext, w: World, suffix = "v2", opts: { url?: string; blue?: string } = {}): Promise<BlueGreen> {
  const url = opts.url ?? w.qdrant.url;
  const blue = opts.blue ?? w.collection;
  const alias = `${blue}_prod_${suffix}`;
  const green = `${blue}_${suffix}`;
  cleanupOnQdrant(t, url, w.apiKey, [green], [alias]);
  await createAlias(url, alias, blue, w.apiKey);
  return { alias, blue, green };
}

/**
 * A backup world for a file's concurrent subtests (each takes a blue/green of its own with `blueGreen`),
 * and the 20 points of its collection (v1) as they are before any rollout.
 */
export async function sharedWorld(t: TestContext, prefix: string, opts: WorldOptions = {}): Promise<{ w: World; v1: Point[] }> {
  const w = await world(t, prefix, opts);
  return { w, v1: (await pointsOf(w, w.collection)) as Point[] };
}

/** A backup world (namespace, seeded blue collection, connection "qdrant", location "s3", the manager) plus one blue/green setting. */
export async function rolloutWorld(t: TestContext, prefix: string, opts: WorldOptions = {}): Promise<World & BlueGreen> {
  const w = await world(t, prefix, opts);
  return { ...w, ...(await blueGreen(t, w)) };
}

/** What Qdrant says about a blue/green setting now: the alias's target and which of blue and green exist. */
export async function qdrantFacts(w: World, bg: BlueGreen, url = w.qdrant.url): Promise<{ alias: string | null; blue: boolean; green: boolean }> {
  const names = await collectionNames(url, w.apiKey);
  return { alias: await aliasTarget(url, bg.alias, w.apiKey), blue: names.includes(bg.blue), green: names.includes(bg.green) };
}

/** Waits until the alias points at `collection` (Qdrant's answer, not the status). */
export function waitForAlias(w: World, alias: string, collection: string | null, url = w.qdrant.url): Promise<true> {
  return eventually(`alias ${alias} → ${collection}`, async () => ((await aliasTarget(url, alias, w.apiKey)) === collection ? true : undefined), 60_000);
}

/** Waits until `collection` exists on the world's Qdrant (or `url`): green made by the rollout. */
export function waitForCollection(w: World, collection: string, url = w.qdrant.url): Promise<true> {
  return eventually(`${collection} created by the rollout`, async () => ((await collectionExists(url, collection, w.apiKey)) ? true : undefined));
}

/** Applies a rollout into the world's namespace. */
export const applyRollout = (w: World, obj: object): Promise<unknown> => apply(w.ns, [obj]);

/** A copy rollout held inside its first upsert (see {@link holdCopyInFirstUpsert}). */
export interface HeldCopy {
  /** The copy Job, running (`rollout-v2-1`). */
  job: RolloutJob;
  /** Green's upserts so far: the delay fault has room to spare, so it counts every one. */
  fired(): Promise<number>;
}

/**
 * Rollout "v2" copying blue's 20 points into green in pages of 5 (four upserts, each held `holdMs` by the
 * emulator), applied and waited for until its copy Job is inside its first upsert: the moment the kill
 * tests take the manager (or the leader) away while the Job goes on.
 */
export async function holdCopyInFirstUpsert(t: TestContext, w: World, bg: BlueGreen, admin: AdminClient, holdMs: number): Promise<HeldCopy> {
  const hold = await admin.delayNext({ method: "PUT", path: `/collections/${bg.green}/points` }, holdMs, 100);
  t.after(() => admin.removeFault(hold.id));
  const fired = async () => (await admin.faults()).find((f) => f.id === hold.id)?.fired ?? -1;
  await applyRollout(w, rolloutObj("v2", bg.alias, bg.green, { source: { copyFrom: { batchSize: 5 } }, gates: { minPoints: 20 } }));
  await eventually("the copy Job inside its first upsert", async () => ((await fired()) >= 1 ? true : undefined), 120_000);
  const [job] = await rolloutJobs(w.ns);
  assert.equal(job?.metadata.name, "rollout-v2-1");
  return { job, fired };
}

/**
 * After the kill: v2 Promoted by the held copy's own Job (adopted, not a second one; one attempt), each
 * of the four pages upserted once, green holding exactly blue's points `v1`, the alias switched once.
 */
export async function assertHeldCopyAdopted(w: World, bg: BlueGreen, held: HeldCopy, v1: unknown[]): Promise<void> {
  const r = await waitForRolloutPhase(w.ns, "v2", "Promoted", 180_000);
  assert.equal(r.status?.jobName, "rollout-v2-1");
  const jobs = await eventually("the copy Job's end counted", async () => {
    const js = await rolloutJobs(w.ns);
    return js.every((j) => j.status?.succeeded !== undefined || j.status?.failed !== undefined) ? js : undefined;
  });
  assert.deepEqual(jobs.map((j) => j.metadata.uid), [held.job.metadata.uid], "the same Job, adopted; no second Job");
  assert.deepEqual([jobs[0]!.status?.succeeded, jobs[0]!.status?.failed ?? 0], [1, 0], "one attempt");
  assert.equal(await held.fired(), 4, "each of the four pages upserted once");
  assertSamePoints(await pointsOf(w, bg.green), v1, "v2 holds v1's points");
  assert.equal(await apiOf(w).count(bg.green, { exact: true }), 20);
  assert.equal(await aliasTarget(w.qdrant.url, bg.alias, w.apiKey), bg.green);
  await assertOneSwitch(w.ns, "v2", bg.alias, bg.green, bg.blue);
}

/**
 * A gate Job's container command: Node (the docker.io/library/node:26 image) running `script`, which sees
 * QDRANT_URL, QDRANT_COLLECTION, QDRANT_ACTIVE_COLLECTION and QDRANT_API_KEY as a user's check would.
 */
export function nodeGate(script: string): { image: string; command: string[] } {
  return { image: "docker.io/library/node:26", command: ["node", "-e", script] };
}

/**
 * A gate script that counts green's points through QDRANT_URL/QDRANT_COLLECTION (with the API key when
 * given) and exits 0 when there are at least `min`, else prints why and exits 1.
 */
export function countGateScript(min: number): string {
  return [
    "const h = process.env.QDRANT_API_KEY ? { 'api-key': process.env.QDRANT_API_KEY, 'content-type': 'application/json' } : { 'content-type': 'application/json' };",
    "const url = `${process.env.QDRANT_URL}/collections/${process.env.QDRANT_COLLECTION}/points/count`;",
    "fetch(url, { method: 'POST', headers: h, body: JSON.stringify({ exact: true }) }).then(async (r) => {",
    "  const n = (await r.json()).result.count;",
    `  if (n >= ${min}) { console.log('green has ' + n + ' points'); process.exit(0); }`,
    `  console.error('green ' + process.env.QDRANT_COLLECTION + ' has ' + n + ' points, fewer than ${min}'); process.exit(1);`,
    "}, (e) => { console.error(String(e)); process.exit(2); });",
  ].join("\n");
}

/**
 * The terminated state of a Job's (only) pod once the kubelet reports it: exit code and termination
 * message (a killed process's last word, if it wrote one).
 */
export async function terminatedPod(ns: string, jobName: string, timeoutMs = 60_000): Promise<{ exitCode?: number; message?: string }> {
  return eventually(`the terminated pod of ${jobName}`, async () => {
    const pods = JSON.parse((await kubectl(["get", "pods", "-n", ns, "-l", `job-name=${jobName}`, "-o", "json"])).stdout) as {
      items: Array<{ status?: { containerStatuses?: Array<{ state?: { terminated?: { message?: string; exitCode?: number } } }> } }>;
    };
    return pods.items[0]?.status?.containerStatuses?.[0]?.state?.terminated;
  }, timeoutMs);
}

/** The manager's log lines that mention `text` (for the report of a failing wait). */
export async function logLines(w: { manager: { log(): Promise<string> } }, text: string): Promise<string> {
  return (await w.manager.log()).split("\n").filter((l) => l.includes(text)).slice(-20).join("\n");
}
