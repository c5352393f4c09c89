/**
 * The zero-downtime bench's load generator and its arithmetic (bench/rollout-zero-downtime.ts): several
 * concurrent clients query THROUGH THE ALIAS at a paced total rate, each query's outcome recorded (when
 * it was sent, its latency, which collection answered it, or why it failed), plus a poller that
 * timestamps when `GET /aliases` first shows the alias at a new collection.
 *
 * A query is by point id (`{"query": <id>}`: nearest to that point's own vector in each collection), so
 * it is valid on a 4-dim blue and an 8-dim green alike — what a client of a rollout to a new embedding
 * model can send across the switch. Every point of a collection carries `payload.side` = the collection's
 * name, so each answer says which collection served it. A query fails when the answer is not 2xx, has no
 * points, mixes sides, or takes more than 5 s.
 */

import { Agent, request } from "undici";
import type { QdrantApi } from "../src/qdrant/client.ts";

export interface QueryOutcome {
  /** performance.now() when the query was sent. */
  sentAt: number;
  latencyMs: number;
  ok: boolean;
  /** The collection that answered (payload.side). */
  side?: string;
  error?: string;
}

export interface LoadOptions {
  /** REST URLs the clients spread over (one per peer in a cluster). */
  urls: string[];
  alias: string;
  /** Total queries per second over all clients. */
  rate: number;
  clients: number;
  /** Point ids 1..ids exist in every collection queried. */
  ids: number;
  apiKey?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * undici's `request` rather than `fetch`: the same keep-alive connections with much less CPU per call, so
 * the load generator does not take the CPU the emulator needs on a small machine.
 */
const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 });

async function queryOnce(url: string, alias: string, id: number, apiKey?: string): Promise<QueryOutcome> {
  const sentAt = performance.now();
  try {
    const res = await request(`${url}/collections/${encodeURIComponent(alias)}/points/query`, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", ...(apiKey ? { "api-key": apiKey } : {}) },
      body: JSON.stringify({ query: id, limit: 5, with_payload: ["side"] }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.body.text();
    const latencyMs = performance.now() - sentAt;
    if (res.statusCode < 200 || res.statusCode > 299) return { sentAt, latencyMs, ok: false, error: `${res.statusCode} ${text.slice(0, 200)}` };
    const points = (JSON.parse(text) as { result?: { points?: Array<{ payload?: { side?: string } }> } }).result?.points ?? [];
    const sides = new Set(points.map((p) => p.payload?.side));
    const side = points[0]?.payload?.side;
    if (points.length === 0 || side === undefined) return { sentAt, latencyMs, ok: false, error: "answer without points" };
    if (sides.size > 1) return { sentAt, latencyMs, ok: false, side, error: `answer mixes collections ${[...sides].join(", ")}` };
    return { sentAt, latencyMs, ok: true, side };
  } catch (err) {
    return { sentAt, latencyMs: performance.now() - sentAt, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Paced clients querying the alias until stopped; every outcome kept. */
export class AliasLoad {
  readonly outcomes: QueryOutcome[] = [];
  #running = false;
  #loops: Array<Promise<void>> = [];
  readonly #opts: LoadOptions;
  startedAt = 0;
  stoppedAt = 0;

  constructor(opts: LoadOptions) {
    this.#opts = opts;
  }

  start(): void {
    const { urls, alias, rate, clients, ids, apiKey } = this.#opts;
    this.#running = true;
    this.startedAt = performance.now();
    const interval = (1000 * clients) / rate;
    this.#loops = Array.from({ length: clients }, async (_, c) => {
      const url = urls[c % urls.length] ?? "";
      // Clients start spread over one interval, so the total rate is even, not in bursts of `clients`.
      let next = this.startedAt + (c * interval) / clients;
      let id = 1 + ((c * 7919) % ids);
      while (this.#running) {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        if (!this.#running) break;
        this.outcomes.push(await queryOnce(url, alias, id, apiKey));
        id = 1 + ((id + 104_729) % ids);
        next += interval;
        // Far behind (a stall): restart the schedule instead of firing a burst to catch up.
        if (performance.now() - next > 1000) next = performance.now();
      }
    });
  }

  /**
   * Drops what was sent before now (a warm-up: the emulator's and the clients' first requests run cold)
   * and counts the run from here.
   */
  endWarmup(): void {
    const now = performance.now();
    const kept = this.outcomes.filter((o) => o.sentAt >= now);
    this.outcomes.length = 0;
    this.outcomes.push(...kept);
    this.startedAt = now;
  }

  async stop(): Promise<QueryOutcome[]> {
    if (!this.#running) return this.outcomes;
    this.#running = false;
    await Promise.all(this.#loops);
    this.stoppedAt = performance.now();
    // Queries in flight when the warm-up ended were recorded after it: they belong to the warm-up.
    const counted = this.outcomes.filter((o) => o.sentAt >= this.startedAt);
    this.outcomes.length = 0;
    this.outcomes.push(...counted);
    return this.outcomes;
  }
}

/** Polls GET /aliases every `everyMs` and records each time the alias's target changes. */
export class AliasWatch {
  readonly changes: Array<{ at: number; to: string | null }> = [];
  #running = false;
  #loop: Promise<void> | undefined;

  readonly #url: string;
  readonly #alias: string;
  readonly #everyMs: number;
  readonly #apiKey: string | undefined;

  constructor(url: string, alias: string, everyMs = 20, apiKey?: string) {
    this.#url = url;
    this.#alias = alias;
    this.#everyMs = everyMs;
    this.#apiKey = apiKey;
  }

  start(): void {
    this.#running = true;
    let last: string | null | undefined;
    this.#loop = (async () => {
      while (this.#running) {
        try {
          const res = await request(`${this.#url}/aliases`, { dispatcher: agent, headers: this.#apiKey ? { "api-key": this.#apiKey } : {} });
          const body = (await res.body.json()) as { result?: { aliases?: Array<{ alias_name: string; collection_name: string }> } };
          const to = body.result?.aliases?.find((a) => a.alias_name === this.#alias)?.collection_name ?? null;
          if (to !== last) this.changes.push({ at: performance.now(), to });
          last = to;
        } catch {
          // A failed poll says nothing about the alias; the load generator counts failures.
        }
        await sleep(this.#everyMs);
      }
    })();
  }

  /** When the alias was first seen at `to` after `since`. */
  seenAt(to: string, since: number): number | undefined {
    return this.changes.find((c) => c.to === to && c.at >= since)?.at;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}

export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

/** One line of numbers for the queries sent in [from, to). */
export function windowLine(label: string, outcomes: QueryOutcome[], from: number, to: number): string {
  const inside = outcomes.filter((o) => o.sentAt >= from && o.sentAt < to);
  const lat = inside.map((o) => o.latencyMs);
  const failed = inside.filter((o) => !o.ok).length;
  const sides = new Map<string, number>();
  for (const o of inside) if (o.side !== undefined) sides.set(o.side, (sides.get(o.side) ?? 0) + 1);
  const ms = (v: number): string => (Number.isNaN(v) ? "-" : `${v.toFixed(1)} ms`);
  const served = [...sides].map(([s, n]) => `${s} ${n}`).join(", ");
  return `  ${label.padEnd(34)} ${String(inside.length).padStart(6)} queries ${((inside.length * 1000) / Math.max(1, to - from)).toFixed(0).padStart(4)}/s  failed ${failed}  p50 ${ms(percentile(lat, 0.5))}  p99 ${ms(percentile(lat, 0.99))}  max ${ms(lat.length > 0 ? Math.max(...lat) : NaN)}  (served by ${served || "-"})`;
}

/** The first errors, grouped by text, for a failure report. */
export function errorSummary(outcomes: QueryOutcome[], max = 5): string[] {
  const byText = new Map<string, number>();
  for (const o of outcomes) if (!o.ok) byText.set(o.error ?? "?", (byText.get(o.error ?? "?") ?? 0) + 1);
  return [...byText].sort((a, b) => b[1] - a[1]).slice(0, max).map(([e, n]) => `    ${n}× ${e}`);
}

/** The bench's own emulator (a child process). */
export interface Emulator {
  url: string;
  peers: string[];
  stop(): Promise<void>;
}

/** What both parts of the bench share. */
export interface World {
  emulator: Emulator;
  api: QdrantApi;
  blue: string;
  green: string;
  alias: string;
  rate: number;
  clients: number;
  points: number;
  phaseMs: number;
}

export interface SwitchTiming {
  label: string;
  from: string;
  to: string;
  /** Request sent (for the manager: the apply that asks for the switch). */
  startedAt: number;
  /** The alias request answered (the operator's switch only). */
  requestDoneAt?: number;
  /** A re-read of GET /aliases first showed the new target. */
  confirmedAt: number;
  /** The manager's own measure of its one alias request, seconds. */
  managerSeconds?: number;
}

const ms = (v: number): string => `${v.toFixed(1)} ms`;

/** Prints one switch: its latency, what readers saw, and the latency windows around it. */
export function report(outcomes: QueryOutcome[], s: SwitchTiming, staleWindowMs: number): void {
  const request = s.requestDoneAt !== undefined ? `, the request itself ${ms(s.requestDoneAt - s.startedAt)}` : "";
  const start = s.requestDoneAt !== undefined ? "request" : "apply";
  const manager = s.managerSeconds !== undefined ? `; the manager's one alias request ${ms(s.managerSeconds * 1000)} (qdrant_operator_rollout_switch_duration_seconds)` : "";
  console.log(`${s.label}: ${s.from} → ${s.to}: switch latency ${ms(s.confirmedAt - s.startedAt)} (${start} → GET /aliases shows ${s.to}${request})${manager}`);
  const firstNew = outcomes.find((o) => o.ok && o.side === s.to && o.sentAt >= s.startedAt - 60_000 && o.sentAt + o.latencyMs >= s.startedAt);
  if (firstNew) console.log(`  first answer from ${s.to}: to a query sent ${ms(firstNew.sentAt - s.startedAt)} after the ${start} (a query resolves the alias when the server gets it)`);
  const stale = outcomes.filter((o) => o.side === s.from && o.sentAt > s.confirmedAt && o.sentAt < s.confirmedAt + staleWindowMs);
  console.log(`  answers from ${s.from} to queries sent after the switch was confirmed: ${stale.length}`);
  console.log(windowLine("before (3 s up to the switch)", outcomes, s.startedAt - 3000, s.startedAt));
  console.log(windowLine("around (switch ± 500 ms)", outcomes, s.startedAt - 500, s.confirmedAt + 500));
  console.log(windowLine("after (3 s from the confirmation)", outcomes, s.confirmedAt, s.confirmedAt + 3000));
}

/** Totals of one part; false when a query failed or the rate was short. */
export function totals(label: string, load: AliasLoad, target: { rate: number; clients: number }): boolean {
  const { outcomes } = load;
  const failed = outcomes.filter((o) => !o.ok);
  const rate = (outcomes.length * 1000) / (load.stoppedAt - load.startedAt);
  console.log(`${label} totals: ${outcomes.length} queries in ${((load.stoppedAt - load.startedAt) / 1000).toFixed(1)} s, ${rate.toFixed(0)} queries/s achieved (target ${target.rate}/s over ${target.clients} clients), failed ${failed.length}`);
  for (const line of errorSummary(outcomes)) console.log(line);
  return failed.length === 0 && rate >= 300;
}

