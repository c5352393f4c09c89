/**
 * Zero downtime, measured (issue 13): a load generator queries THROUGH THE ALIAS (bench/rollout-load.ts:
 * several paced clients, ≥ 300 queries/s by default 400, every query's outcome recorded) while the alias
 * is switched from blue (4-dim) to green (8-dim) for promotion and back for rollback:
 *
 *   (a) by the operator's own switch: the calls of src/controllers/rollout/switch.ts through the
 *       operator's Qdrant adapter (GET /aliases, exists, ONE `create_alias`, GET /aliases to confirm);
 *   (b) by a real manager (src/main.ts manager, as the operator's ServiceAccount) driving a
 *       CollectionRollout (source external: green is filled beforehand; gates minPoints + requireGreen;
 *       promotion Auto), then `spec.rollback: true`. Needs TESTENV_FILE (the shared test environment's
 *       control plane; the bench's own emulator is used, not the environment's) and the rollout
 *       controller in the manager; skipped with the reason otherwise, or with --direct-only.
 *
 * Printed per switch: the switch latency (request → a re-read of GET /aliases shows the new target; for
 * the manager: the apply → the alias seen moved by a 20 ms poller, and the manager's own metric of its one
 * request), when readers first got an answer from the new collection, answers from the old one to queries
 * sent after the confirmed switch (stale reads), and p50/p99/max latency in windows before, around and
 * after the switch. Then totals (after a 2 s warm-up that is not counted): queries, failed queries (must
 * be 0), achieved rate. Exit code 1 when a query failed or the rate stayed under 300/s.
 *
 * Run: node_modules/.bin/node bench/rollout-zero-downtime.ts [--rate 400] [--clients 32] [--points 32]
 *        [--peers 1|3] [--phase-seconds 6] [--direct-only]
 * The emulator is a test double: its latencies say nothing about Qdrant's, only that the switch itself
 * never leaves readers without the alias.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { QdrantApi } from "../src/qdrant/client.ts";
import { AliasLoad, AliasWatch, report, totals, type Emulator, type SwitchTiming, type World } from "./rollout-load.ts";
import { runManagerPart, managerPartUnavailable } from "./rollout-manager-part.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE = path.join(ROOT, "node_modules/.bin/node");
const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "400" },
    clients: { type: "string", default: "32" },
    points: { type: "string", default: "32" },
    peers: { type: "string", default: "1" },
    "phase-seconds": { type: "string", default: "6" },
    "direct-only": { type: "boolean", default: false },
  },
});
const RATE = Number(values.rate);
const CLIENTS = Number(values.clients);
const POINTS = Number(values.points);
const PEERS = Number(values.peers);
const PHASE_MS = Number(values["phase-seconds"]) * 1000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Load before the measured run (not counted): the first requests of a process run cold. */
const WARMUP_MS = 2000;

async function startEmulatorChild(peers: number): Promise<Emulator> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-bench-"));
  const child: ChildProcess = spawn(NODE, [path.join(ROOT, "test/emulator/cli.ts"), "--port", "0", "--peers", String(peers), "--data-dir", dataDir], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, QDRANT_EMULATOR_QUIET: "1" },
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), "line")) as [string];
  const { url, peers: urls } = JSON.parse(line) as { url: string; peers: string[] };
  return {
    url,
    peers: urls,
    async stop() {
      child.kill("SIGTERM");
      await once(child, "exit");
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates `name` with `dim`-dim vectors and points 1..POINTS, each with payload.side = name. */
async function seed(api: QdrantApi, name: string, dim: number): Promise<void> {
  await api.createCollection(name, { vectors: { size: dim, distance: "Cosine" } });
  for (let start = 1; start <= POINTS; start += 500) {
    const ids = Array.from({ length: Math.min(500, POINTS - start + 1) }, (_, k) => start + k);
    await api.upsert(name, ids.map((id) => ({ id, vector: Array.from({ length: dim }, (_, d) => Math.sin(id * (d + 1)) + 1.1), payload: { side: name } })));
  }
}

/** The operator's switch (src/controllers/rollout/switch.ts), step by step, timed. */
async function operatorSwitch(api: QdrantApi, alias: string, to: string, label: string): Promise<SwitchTiming> {
  const aliases = await api.listAliases();
  const from = aliases.find((a) => a.alias === alias)?.collection ?? "";
  if (aliases.some((a) => a.alias === to) || !(await api.collectionExists(to))) throw new Error(`${to} is not a collection`);
  const startedAt = performance.now();
  await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: to } }]);
  const requestDoneAt = performance.now();
  for (;;) {
    if ((await api.listAliases()).find((a) => a.alias === alias)?.collection === to) break;
  }
  return { label, from, to, startedAt, requestDoneAt, confirmedAt: performance.now() };
}

async function directPart(w: World): Promise<boolean> {
  const load = new AliasLoad({ urls: w.emulator.peers, alias: w.alias, rate: RATE, clients: CLIENTS, ids: POINTS });
  load.start();
  await sleep(WARMUP_MS);
  load.endWarmup();
  await sleep(PHASE_MS);
  const promote = await operatorSwitch(w.api, w.alias, w.green, "(a) promotion, the operator's switch");
  await sleep(PHASE_MS);
  const rollback = await operatorSwitch(w.api, w.alias, w.blue, "(a) rollback, the operator's switch");
  await sleep(PHASE_MS);
  await load.stop();
  report(load.outcomes, promote, PHASE_MS);
  report(load.outcomes, rollback, PHASE_MS);
  return totals("(a)", load, { rate: RATE, clients: CLIENTS });
}

async function main(): Promise<void> {
  const emulator = await startEmulatorChild(PEERS);
  let ok = true;
  try {
    const api = new QdrantApi({ url: emulator.url, timeoutMs: 30_000 });
    const tag = randomBytes(3).toString("hex");
    const [blue, green, alias] = [`policies_v1_${tag}`, `policies_v2_${tag}`, `policies_production_${tag}`];
    await seed(api, blue, 4);
    await seed(api, green, 8);
    await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: blue } }]);
    console.log(
      `emulator ${PEERS === 1 ? "standalone" : `${PEERS} peers (clients spread over them)`}; blue ${blue} (4-dim) and green ${green} (8-dim), ${POINTS} points each; ` +
        `alias ${alias}; queries by point id, ${RATE}/s over ${CLIENTS} clients; load average ${fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    const w: World = { emulator, api, blue, green, alias, rate: RATE, clients: CLIENTS, points: POINTS, phaseMs: PHASE_MS };
    ok = (await directPart(w)) && ok;
    const why = values["direct-only"] ? "--direct-only" : await managerPartUnavailable();
    if (why !== undefined) {
      console.log(`(b) skipped: ${why}`);
    } else {
      const watch = new AliasWatch(emulator.url, alias);
      ok = (await runManagerPart(w, watch)) && ok;
    }
  } finally {
    await emulator.stop();
  }
  if (!ok) {
    console.log("FAILED: a query failed, or the achieved rate was under 300 queries/s");
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
