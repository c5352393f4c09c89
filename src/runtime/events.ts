/**
 * Records events.k8s.io/v1 Events about objects (what `kubectl describe` and `kubectl events` show).
 *
 * Repeats are aggregated: the same regarding object, type, reason, action and note seen again within the
 * window updates the existing Event's `series` (count, lastObservedTime) instead of creating another one,
 * so a reconcile that fails every few seconds for an hour leaves one Event with a count, not thousands.
 *
 * Recording is fire-and-forget: a reconcile never waits for an Event and never fails because one could not
 * be written (the failure is logged). Writes for one aggregation key are serialized, so the create of the
 * first occurrence finishes before the second updates it. Notes are scrubbed of registered secrets.
 *
 * Crash window: the aggregation state lives in memory; after a restart the next repeat creates a fresh
 * Event (series start again), which is what the apiserver's own recorders do too.
 */
import type { Logger } from "pino";
import { realClock, type Clock } from "./clock.ts";
import { toMicroTime } from "./conditions.ts";
import { isNotFound, WriteRefusedError } from "./errors.ts";
import { scrubAndTruncate, type Redactor } from "./redact.ts";
import { MERGE_PATCH, type CallOptions, type KubeClient } from "./rest-client.ts";
import type { KubeObject } from "./resource.ts";

export type EventType = "Normal" | "Warning";

export interface ObjectReference {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRequest {
  regarding: KubeObject | ObjectReference;
  type: EventType;
  /** CamelCase: "BackupFailed". */
  reason: string;
  /** What was being done: "CreateSnapshot". */
  action: string;
  /** Human-readable; scrubbed of secrets and cut to 1 kB. */
  note: string;
  related?: KubeObject | ObjectReference;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** Who reports: "example.com/operator". */
  reportingController: string;
  /** Which replica: the pod name. */
  reportingInstance: string;
  logger: Logger;
  clock?: Clock;
  redactor?: Redactor;
  /** A repeat within this long of the last occurrence joins its series. Default 10 minutes. */
  aggregationWindowMs?: number;
  /** Aggregation keys remembered (least recently seen dropped first). Default 4096. */
  maxKeys?: number;
}

const REASON = /^[A-Z][A-Za-z0-9]*$/;
const NOTE_MAX_BYTES = 1024;

export type AggregationDecision = { kind: "create" } | { kind: "update"; name: string; namespace: string; count: number };

interface Entry {
  name: string | undefined;
  namespace: string;
  count: number;
  lastSeen: number;
}

/**
 * The decision half of the recorder, free of I/O: given an aggregation key and the time, create a new
 * Event or bump the series of the one already written.
 */
export class EventAggregator {
  readonly #entries = new Map<string, Entry>();
  readonly #windowMs: number;
  readonly #maxKeys: number;

  constructor(windowMs = 600_000, maxKeys = 4096) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  observe(key: string, namespace: string, now: number): AggregationDecision {
    const e = this.#entries.get(key);
    this.#entries.delete(key); // re-inserted below: Map order is recency order
    if (e?.name !== undefined && now - e.lastSeen <= this.#windowMs) {
      e.count++;
      e.lastSeen = now;
      this.#entries.set(key, e);
      return { kind: "update", name: e.name, namespace: e.namespace, count: e.count };
    }
    this.#entries.set(key, { name: undefined, namespace, count: 1, lastSeen: now });
    while (this.#entries.size > this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value!);
    return { kind: "create" };
  }

  /** The Event for `key` was written under `name`; later repeats update it. */
  created(key: string, name: string): void {
    const e = this.#entries.get(key);
    if (e) e.name = name;
  }

  /** The Event for `key` is gone (expired by its TTL, deleted); the next repeat creates a new one. */
  forget(key: string): void {
    this.#entries.delete(key);
  }
}

export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #agg: EventAggregator;
  readonly #chains = new Map<string, Promise<void>>();
  #seq = 0;

  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.logger.child({ component: "event-recorder" });
    this.#agg = new EventAggregator(opts.aggregationWindowMs, opts.maxKeys);
  }

  /**
   * Records an event; returns at once. Throws only on a malformed reason (a programming error). The
   * write obeys `opts.signal` and, when recorded from a reconcile, the reconcile's signal: an Event of a
   * reconcile that was aborted (a lost lease) is not written.
   */
  event(req: EventRequest, opts: CallOptions = {}): void {
    if (!REASON.test(req.reason) || req.reason.length > 128) throw new RangeError(`event reason must be CamelCase, at most 128 characters (got ${JSON.stringify(req.reason)})`);
    const regarding = toReference(req.regarding);
    const note = scrubAndTruncate(this.#opts.redactor, req.note, NOTE_MAX_BYTES);
    const namespace = regarding.namespace || "default";
    const key = JSON.stringify([regarding.uid ?? `${namespace}/${regarding.kind ?? ""}/${regarding.name}`, req.type, req.reason, req.action, note]);
    const now = this.#clock.now();
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev
      .then(() => this.#write(key, namespace, { ...req, note }, regarding, now, opts))
      .catch((err: unknown) => {
        if (isWriteRefused(err)) return void this.#log.debug({ err, reason: req.reason }, "Event not recorded: writes are refused");
        this.#log.warn({ err, reason: req.reason, regarding: `${namespace}/${regarding.name}` }, "Failed to record event");
      })
      .finally(() => {
        if (this.#chains.get(key) === next) this.#chains.delete(key);
      });
    this.#chains.set(key, next);
  }

  /** Resolves when every event recorded so far has been written (or failed). For shutdown and tests. */
  async flush(): Promise<void> {
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  async #write(key: string, namespace: string, req: EventRequest, regarding: ObjectReference, now: Date, call: CallOptions): Promise<void> {
    const decision = this.#agg.observe(key, namespace, now.getTime());
    if (decision.kind === "update") {
      try {
        await this.#opts.client.request("PATCH", `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(decision.namespace)}/events/${encodeURIComponent(decision.name)}`, {
          ...call,
          body: { series: { count: decision.count, lastObservedTime: toMicroTime(now) } },
          contentType: MERGE_PATCH,
        });
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.#agg.forget(key);
        this.#agg.observe(key, namespace, now.getTime());
      }
    }
    const name = this.#eventName(regarding.name, now);
    await this.#opts.client.request("POST", `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      ...call,
      body: {
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name, namespace },
        eventTime: toMicroTime(now),
        reportingController: this.#opts.reportingController,
        reportingInstance: this.#opts.reportingInstance,
        action: req.action.slice(0, 128),
        reason: req.reason,
        note: req.note,
        type: req.type,
        regarding,
        ...(req.related ? { related: toReference(req.related) } : {}),
      },
    });
    this.#agg.created(key, name);
  }

  /** "<object>.<hex nanoseconds>", unique per recorder even within one millisecond. */
  #eventName(objectName: string, now: Date): string {
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.#seq++ % 1_000_000);
    const suffix = `.${nanos.toString(16)}`;
    return objectName.slice(0, 253 - suffix.length) + suffix;
  }
}

const isWriteRefused = (err: unknown): boolean => err instanceof WriteRefusedError;

/** An ObjectReference to `obj` (an object, or already a reference). */
export function toReference(obj: KubeObject | ObjectReference): ObjectReference {
  if ("metadata" in obj && obj.metadata) {
    const m = obj.metadata;
    const ref: ObjectReference = { name: m.name ?? "" };
    if (obj.apiVersion) ref.apiVersion = obj.apiVersion;
    if (obj.kind) ref.kind = obj.kind;
    if (m.namespace) ref.namespace = m.namespace;
    if (m.uid) ref.uid = m.uid;
    if (m.resourceVersion) ref.resourceVersion = m.resourceVersion;
    return ref;
  }
  return obj as ObjectReference;
}
