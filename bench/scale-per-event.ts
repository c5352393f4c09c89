/**
 * What one event, or one turn decision, costs the manager as the namespace grows: the real controllers'
 * watches (the schedule controller's restore-protection watch, the backup and restore controllers' turn
 * taking and their connection watches), fed through real informers and caches with their indexes, at
 * N = 1,000 and 10,000 QdrantBackups (N/10 schedules, one Qdrant). Only the size of the namespace
 * changes between sizes: the same 20 backups are unfinished (in line for the Qdrant), the rest have
 * failed, and the same 10 QdrantRestores name one backup each. If a handler scanned the namespace, its cost per event would grow
 * tenfold; through index lookups it stays flat. No apiserver: events are handed to the informers as a
 * watch would, and no worker runs (reconciles are not measured, the keys they would get are counted).
 *
 * Run: node_modules/.bin/node bench/scale-per-event.ts [--sizes 1000,10000] [--events 2000] [--rounds 3]
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { backupController } from "../src/controllers/backup/controller.ts";
import { BACKUP_KIND } from "../src/controllers/backup/one-at-a-time.ts";
import type { BackupObject } from "../src/controllers/backup/types.ts";
import { backupScheduleController } from "../src/controllers/backup-schedule/controller.ts";
import { restoreController } from "../src/controllers/restore/controller.ts";
import type { OperatorContext } from "../src/controllers/shared/context.ts";
import { Turns } from "../src/controllers/shared/turns/turns.ts";
import type { Controller } from "../src/runtime/controller.ts";
import { realClock } from "../src/runtime/clock.ts";
import { Informer } from "../src/runtime/informer.ts";
import type { ListerWatcher, WatchEventType } from "../src/runtime/list-watch.ts";
import { Redactor } from "../src/runtime/redact.ts";
import { KubeClient } from "../src/runtime/rest-client.ts";
import type { KubeObject, ResourceType } from "../src/runtime/resource.ts";
import { StatusWriter } from "../src/runtime/status-writer.ts";
import { EventRecorder } from "../src/runtime/events.ts";
import { COLLECTION_ROLLOUTS, JOBS, QDRANT_BACKUP_LOCATIONS, QDRANT_BACKUP_SCHEDULES, QDRANT_BACKUPS, QDRANT_CONNECTIONS, QDRANT_RESTORES } from "../src/controllers/resources.ts";

const { values } = parseArgs({ options: { sizes: { type: "string", default: "1000,10000" }, events: { type: "string", default: "2000" }, rounds: { type: "string", default: "3" } } });
const ROUNDS = Number(values.rounds);
const SIZES = values.sizes.split(",").map(Number);
const EVENTS = Number(values.events);
const NS = "bench";
const UNFINISHED = 20;
const RESTORES = 10;

/** A watch the bench drives: list returns the seeded objects, `send` delivers an event to the live watch. */
class ScriptedSource implements ListerWatcher<KubeObject> {
  rv = 1;
  readonly items: KubeObject[] = [];
  #onEvent: ((type: WatchEventType, obj: unknown) => void) | undefined;
  list() {
    return Promise.resolve({ items: this.items, resourceVersion: String(this.rv) });
  }
  watch(_ns: string | undefined, _req: unknown, onEvent: (type: WatchEventType, obj: unknown) => void) {
    this.#onEvent = onEvent;
    return Promise.resolve({ abort: () => (this.#onEvent = undefined) });
  }
  get watching(): boolean {
    return this.#onEvent !== undefined;
  }
  send(obj: KubeObject): void {
    this.#onEvent?.("MODIFIED", { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
  }
}

/** Never called while only watches run; a reconcile would need an apiserver. */
class NoApiserver extends KubeClient {
  protected send<T>(): Promise<T> {
    return Promise.reject(new Error("the per-event bench makes no requests"));
  }
}

const logger = pino({ level: process.env.LOG_LEVEL ?? "silent" });
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: NS, uid: `uid-${name}`, generation: 1, resourceVersion: "1", creationTimestamp: "2026-01-01T00:00:00Z", ...extra });
const owner = (name: string) => [{ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true }];

interface World {
  sources: Record<string, ScriptedSource>;
  informers: Informer<KubeObject>[];
  controllers: Controller[];
  turns: Turns;
  backups: Informer<BackupObject>;
}

function world(n: number): World {
  const kinds: Record<string, ResourceType> = { schedules: QDRANT_BACKUP_SCHEDULES, backups: QDRANT_BACKUPS, restores: QDRANT_RESTORES, connections: QDRANT_CONNECTIONS, locations: QDRANT_BACKUP_LOCATIONS, jobs: JOBS, rollouts: COLLECTION_ROLLOUTS };
  const sources: Record<string, ScriptedSource> = {};
  const inf: Record<string, Informer<KubeObject>> = {};
  for (const [k, rt] of Object.entries(kinds)) {
    sources[k] = new ScriptedSource();
    inf[k] = new Informer<KubeObject>({ resource: rt, listerWatcher: sources[k], logger, clock: realClock });
  }
  const s = n / 10;
  const connection = { name: "qdrant" };
  const location = { name: "s3" };
  sources.connections!.items.push({ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantConnection", metadata: meta("qdrant"), spec: { url: "http://qdrant:6333", peers: { mode: "None" } } });
  sources.locations!.items.push({ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupLocation", metadata: meta("s3"), spec: { s3: { bucket: "b" } } });
  for (let i = 0; i < s; i++) {
    sources.schedules!.items.push({ apiVersion: "qdrant-operator.dev/v1alpha1", kind: "QdrantBackupSchedule", metadata: meta(`s${i}`), spec: { schedule: "0 0 1 1 *", connectionRef: connection, locationRef: location } });
  }
  for (let i = 0; i < n; i++) {
    const schedule = `s${i % s}`;
    const failed = { phase: "Failed", completionTime: "2026-01-01T00:01:00Z", conditions: [{ type: "Ready", status: "False", reason: "LocationReadOnly", message: "x" }, { type: "CleanedUp", status: "True", reason: "NothingToClean" }] };
    // The first UNFINISHED wait in line (no status yet): the same line at every N.
    sources.backups!.items.push({
      apiVersion: "qdrant-operator.dev/v1alpha1",
      kind: "QdrantBackup",
      metadata: meta(`b${i}`, { ownerReferences: owner(schedule), labels: { "qdrant-operator.dev/schedule": schedule } }),
      spec: { connectionRef: connection, locationRef: location },
      ...(i < UNFINISHED ? {} : { status: failed }),
    });
  }
  for (let i = 0; i < RESTORES; i++) {
    sources.restores!.items.push({
      apiVersion: "qdrant-operator.dev/v1alpha1",
      kind: "QdrantRestore",
      metadata: meta(`r${i}`),
      spec: { source: { backupRef: { name: `b${UNFINISHED + i * 7}` } }, target: { connectionRef: connection, collection: `c${i}` } },
      status: { phase: "Succeeded" },
    });
  }
  const client = new NoApiserver();
  const ctx: OperatorContext = {
    client,
    status: new StatusWriter(client),
    events: new EventRecorder({ client, reportingController: "bench", reportingInstance: "bench", logger }),
    redactor: new Redactor(),
    clock: realClock,
    logger,
    workers: 1,
  };
  const turns = new Turns(inf.connections!);
  const backups = inf.backups as unknown as Informer<BackupObject>;
  const controllers = [
    backupScheduleController(ctx, { schedules: inf.schedules as never, backups: inf.backups as never, restores: inf.restores as never }),
    backupController(ctx, { backups, jobs: inf.jobs as never, connections: inf.connections as never, locations: inf.locations as never, turns, restores: inf.restores, rollouts: inf.rollouts }, { defaultJobImage: "bench" }),
    restoreController(ctx, { restores: inf.restores as never, jobs: inf.jobs as never, connections: inf.connections as never, locations: inf.locations as never, backups: inf.backups as never, turns }, { defaultJobImage: "bench" }),
  ];
  return { sources, informers: Object.values(inf), controllers, turns, backups };
}

/**
 * Microseconds of CPU per call of `fn`: the least of ROUNDS rounds of `count` calls (the machine is
 * shared; the least is the one others disturbed least), after a warm-up of a tenth as many.
 */
function perCall(count: number, fn: (i: number) => void): number {
  let i = 0;
  for (; i < count / 10; i++) fn(i);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    for (const end = i + count; i < end; i++) fn(i);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / count);
  }
  return best;
}

const rows: Array<Record<string, string>> = [];
// The first size again at the start, its row dropped: the JIT warms up on it.
for (const [round, n] of [SIZES[0]!, ...SIZES].entries()) {
  const w = world(n);
  for (const i of w.informers) i.start();
  await Promise.all(w.informers.map((i) => i.waitForSync()));
  while (!Object.values(w.sources).every((s) => s.watching)) await new Promise((r) => setImmediate(r));
  // Every key a handler hands to a controller, counted (the queues, holding every key since the list, de-duplicate them).
  let enqueued = 0;
  for (const c of w.controllers) {
    const add = c.queue.add.bind(c.queue);
    c.queue.add = (key: string) => {
      enqueued++;
      add(key);
    };
  }
  const keysPer = (events: number, run: () => number): string => {
    const from = enqueued;
    const us = run();
    return `${us.toFixed(1)} µs, ${((enqueued - from) / (events * (0.1 + ROUNDS))).toFixed(1)} keys`;
  };
  const restores = w.sources.restores!.items;
  const failedBackups = w.sources.backups!.items.slice(UNFINISHED);
  const waiting = w.backups.cache.get({ namespace: NS, name: `b${UNFINISHED - 1}` })!;
  const connection = w.sources.connections!.items[0]!;
  const phases = new Map<string, string>();
  const row: Record<string, string> = { N: String(n) };
  // A restore's phase changes (what protection reads): wakes the schedule owning the backup it names.
  row["restore event (protection watch)"] = keysPer(EVENTS, () =>
    perCall(EVENTS, (i) => {
      const r = restores[i % restores.length]!;
      const phase = phases.get(r.metadata!.name!) === "Running" ? "Succeeded" : "Running";
      phases.set(r.metadata!.name!, phase);
      w.sources.restores!.send({ ...r, status: { phase } });
    }),
  );
  // A failed backup's status is rewritten (its owner schedule is woken; it is in no line).
  row["backup event (owner + turns)"] = keysPer(EVENTS, () =>
    perCall(EVENTS, (i) => {
      const b = failedBackups[i % failedBackups.length]!;
      w.sources.backups!.send({ ...b, status: { ...(b.status as object), completionTime: `2026-01-01T00:${String(i % 60).padStart(2, "0")}:00Z` } });
    }),
  );
  // The connection's spec changes: wakes the unfinished backups and restores on it, by index.
  row["connection event (indexed wake)"] = keysPer(EVENTS / 10, () =>
    perCall(EVENTS / 10, (i) => {
      w.sources.connections!.send({ ...connection, metadata: { ...connection.metadata, generation: i + 2 } });
    }),
  );
  // The turn decision every waiting backup's reconcile makes.
  row["turn decision (ahead)"] = `${perCall(EVENTS, () => void w.turns.ahead(BACKUP_KIND, waiting)).toFixed(1)} µs`;
  if (round > 0) rows.push(row);
  for (const i of w.informers) await i.stop();
}
console.log(`CPU per event or decision, and the keys each event hands to the controllers (${EVENTS} events of each kind; ${UNFINISHED} backups unfinished and ${RESTORES} restores at every N):`);
console.table(rows);
