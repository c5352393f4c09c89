/**
 * An informer keeps a local cache of one resource type in step with the apiserver and tells event handlers
 * what changed. It is built on list + watch ("reflectors", one per watched namespace, or one for all):
 *
 * - list, replace the cache (emitting deletes for objects that vanished while nobody watched), then watch
 *   from the list's resourceVersion;
 * - every watch carries a server-side `timeoutSeconds` drawn from [min, 2·min), so no watch lives forever
 *   and a fleet of managers does not reconnect in lockstep;
 * - a client-side watchdog aborts a watch that outlives that timeout by `watchGraceMs`: a connection that
 *   silently died (a NAT or load balancer dropped it, the kind of stall reported against the JavaScript
 *   client in kubernetes-client/javascript #596, #958 and #1933) never sends the server's close, and
 *   without the watchdog the informer would wait on it forever;
 * - a watch that fails is retried from the last resourceVersion after an exponential backoff with jitter;
 *   410 Gone (the resourceVersion is older than the apiserver keeps) relists at once;
 * - bookmarks advance the resourceVersion without an object, so a quiet resource's restart is cheap;
 * - the watch itself aborts a stream silent past its idle limit (a TimeoutError, list-watch.ts), set past
 *   the server-side timeout: a cheap re-watch from the same resourceVersion, logged at debug.
 *
 * Handlers see adds, updates and deletes, but controllers only use them to compute keys: a reconcile never
 * branches on which kind of event woke it. The cache's indexes are updated before handlers run, so a
 * handler's index lookups already see the event's object.
 */
import type { Logger } from "pino";
import { ObjectCache, type Delta, type IndexFunc } from "./cache.ts";
import { jitter, realClock, sleep, type Cancel, type Clock } from "./clock.ts";
import { httpStatusOf } from "./errors.ts";
import type { ListerWatcher, WatchHandle, WatchStatus } from "./list-watch.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

export interface EventHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export interface InformerOptions<T extends KubeObject> {
  resource: ResourceType;
  listerWatcher: ListerWatcher<T>;
  logger: Logger;
  /** "all" (default) or the namespaces to watch; ignored for cluster-scoped resources. */
  namespaces?: "all" | string[];
  clock?: Clock;
  /** Server-side watch timeout is drawn from [min, 2·min) seconds. Default 300 (client-go's). */
  minWatchTimeoutSeconds?: number;
  /** How long past its server-side timeout a watch may stay open before it is deemed stalled. Default 30 s. */
  watchGraceMs?: number;
  /** Retry delays after list or watch errors. Default 800 ms doubling to 30 s, each with up to 100 % jitter. */
  backoff?: BackoffOptions;
  /** When set, every cached object is handed to onUpdate(obj, obj) this often: a safety net, not a clock. */
  resyncMs?: number;
  /**
   * Applied to every listed and watched object before it enters the cache and before any handler sees
   * it (client-go's TransformFunc), e.g. stripForCache (cache-transform.ts): what it drops, no
   * controller can read. It gets the freshly decoded object, which nothing else holds, and may change it
   * in place. (Method syntax: an Informer<Sub> stays assignable to Informer<KubeObject>, as ObjectCache's
   * index does.)
   */
  transform?(obj: T): T;
  random?: () => number;
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Relists caused by 410 Gone. */
  expired: number;
  errors: number;
  /** Watches aborted by the client-side watchdog. */
  stalled: number;
}

type WatchOutcome = { kind: "closed" | "expired" | "stopped" | "stalled"; events: number } | { kind: "error"; err: unknown; events: number };

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceType;
  readonly cache = new ObjectCache<T>();
  readonly #opts: InformerOptions<T>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #handlers: EventHandler<T>[] = [];
  readonly #scopes: Array<string | undefined>;
  readonly #synced = new Set<string | undefined>();
  readonly #syncWaiters: Array<() => void> = [];
  readonly #stats: InformerStats = { lists: 0, watches: 0, expired: 0, errors: 0, stalled: 0 };
  #abort: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(opts: InformerOptions<T>) {
    this.resource = opts.resource;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#log = opts.logger.child({ informer: `${opts.resource.plural}${opts.resource.group ? "." + opts.resource.group : ""}` });
    const ns = opts.namespaces ?? "all";
    this.#scopes = !opts.resource.namespaced || ns === "all" ? [undefined] : [...new Set(ns)];
    if (this.#scopes.length === 0) throw new Error("informer needs at least one namespace, or \"all\"");
  }

  /**
   * Adds a named index to the cache (see ObjectCache.addIndex), kept in step with every event from then
   * on; before or after start, since it is built over what is cached when added.
   */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.cache.addIndex(name, fn);
  }

  addEventHandler(handler: EventHandler<T>): void {
    this.#handlers.push(handler);
    // A handler added after the initial list still learns about every object.
    for (const obj of this.cache.list()) this.#call(() => handler.onAdd?.(obj));
  }

  /** True once every watched namespace has been listed; stays true. */
  hasSynced(): boolean {
    return this.#synced.size === this.#scopes.length;
  }

  /** Resolves once synced; resolves false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      });
    });
  }

  stats(): InformerStats {
    return { ...this.#stats };
  }

  /** Starts the reflectors; idempotent. Errors never escape: they are logged and retried. */
  start(): void {
    if (this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    const loops = this.#scopes.map((scope) => this.#reflect(scope, abort.signal));
    if (this.#opts.resyncMs) loops.push(this.#resync(this.#opts.resyncMs, abort.signal));
    this.#running = Promise.all(loops).then(() => undefined);
  }

  /** Closes every watch and resolves when the reflectors have ended. */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#running;
    this.#running = undefined;
  }

  async #reflect(scope: string | undefined, signal: AbortSignal): Promise<void> {
    const log = scope === undefined ? this.#log : this.#log.child({ namespace: scope });
    const backoff = new Backoff(this.#opts.backoff ?? { initialMs: 800, maxMs: 30_000 }, this.#opts.random ?? Math.random);
    let resourceVersion = "";
    let needList = true;
    while (!signal.aborted) {
      if (needList) {
        try {
          const list = await this.#opts.listerWatcher.list(scope, signal, (o) => this.#transformed(o));
          this.#stats.lists++;
          resourceVersion = list.resourceVersion;
          needList = false;
          this.#emit(this.cache.replace(list.items, scope));
          this.#markSynced(scope);
          log.debug({ resourceVersion, items: list.items.length }, "Listed");
        } catch (err) {
          if (signal.aborted) break;
          this.#stats.errors++;
          const delay = backoff.next();
          log.error({ err, retryInMs: Math.round(delay) }, "Failed to list");
          await sleep(this.#clock, delay, signal);
          continue;
        }
      }
      const started = this.#clock.now().getTime();
      const outcome = await this.#watchOnce(scope, resourceVersion, signal, (rv) => (resourceVersion = rv));
      const lived = this.#clock.now().getTime() - started;
      switch (outcome.kind) {
        case "stopped":
          return;
        case "expired":
          this.#stats.expired++;
          log.info({ resourceVersion }, "Watch expired (410 Gone); relisting");
          needList = true;
          break;
        case "stalled":
          this.#stats.stalled++;
          log.warn({ resourceVersion }, "Watch outlived its timeout without closing; assuming a dead connection and restarting it");
          break;
        case "closed":
          // A healthy watch ends at its timeoutSeconds. One that closes at once without events is a
          // symptom (a proxy closing idle streams): back off instead of spinning.
          if (outcome.events > 0 || lived >= 1000) {
            backoff.reset();
            log.debug({ resourceVersion, livedMs: lived }, "Watch closed");
          } else {
            await sleep(this.#clock, backoff.next(), signal);
          }
          break;
        case "error": {
          this.#stats.errors++;
          const delay = backoff.next();
          log.warn({ err: outcome.err, resourceVersion, retryInMs: Math.round(delay) }, "Watch failed; retrying from the last resourceVersion");
          await sleep(this.#clock, delay, signal);
          break;
        }
      }
    }
  }

  #watchOnce(scope: string | undefined, resourceVersion: string, signal: AbortSignal, setRv: (rv: string) => void): Promise<WatchOutcome> {
    const min = this.#opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(jitter(min, 1, this.#opts.random));
    const graceMs = this.#opts.watchGraceMs ?? 30_000;
    this.#stats.watches++;
    return new Promise<WatchOutcome>((resolve) => {
      let events = 0;
      let finished = false;
      let handle: WatchHandle | undefined;
      let cancelWatchdog: Cancel = () => {};
      const finish = (outcome: WatchOutcome) => {
        if (finished) return;
        finished = true;
        cancelWatchdog();
        signal.removeEventListener("abort", onAbort);
        handle?.abort();
        resolve(outcome);
      };
      const onAbort = () => finish({ kind: "stopped", events });
      signal.addEventListener("abort", onAbort, { once: true });
      cancelWatchdog = this.#clock.setTimeout(() => finish({ kind: "stalled", events }), timeoutSeconds * 1000 + graceMs);
      const onEvent = (type: string, raw: unknown) => {
        if (finished) return;
        if (type === "ERROR") {
          const status = raw as WatchStatus;
          if (status.code === 410) finish({ kind: "expired", events });
          else finish({ kind: "error", err: new Error(`watch error event: ${status.code ?? "?"} ${status.reason ?? ""} ${status.message ?? ""}`.trim()), events });
          return;
        }
        const rv = (raw as T).metadata?.resourceVersion;
        if (rv) setRv(rv);
        if (type === "BOOKMARK") return;
        events++;
        const obj = this.#transformed(raw as T);
        if (type === "ADDED" || type === "MODIFIED") this.#emit([this.cache.upsert(obj)]);
        else if (type === "DELETED") this.#emit([this.cache.remove(obj) ?? { type: "deleted", obj }]);
      };
      const onDone = (err?: unknown) => {
        if (err === undefined || err === null) finish({ kind: "closed", events });
        else if (httpStatusOf(err) === 410) finish({ kind: "expired", events });
        // The watch's own inactivity timer (list-watch.ts): the stream was silent too long. Reconnecting is the cure.
        else if ((err as { name?: unknown }).name === "TimeoutError") finish({ kind: "closed", events: events + 1 });
        else finish({ kind: "error", err, events });
      };
      this.#opts.listerWatcher
        .watch(scope, { resourceVersion, timeoutSeconds, allowWatchBookmarks: true }, onEvent, onDone)
        .then(
          (h) => {
            handle = h;
            if (finished) h.abort();
          },
          (err: unknown) => finish({ kind: "error", err, events }),
        );
    });
  }

  async #resync(everyMs: number, signal: AbortSignal): Promise<void> {
    while (await sleep(this.#clock, everyMs, signal)) {
      if (!this.hasSynced()) continue;
      for (const obj of this.cache.list()) for (const h of this.#handlers) this.#call(() => h.onUpdate?.(obj, obj));
    }
  }

  #transformed(obj: T): T {
    return this.#opts.transform ? this.#opts.transform(obj) : obj;
  }

  #markSynced(scope: string | undefined): void {
    this.#synced.add(scope);
    if (!this.hasSynced()) return;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #emit(deltas: Delta<T>[]): void {
    for (const d of deltas) {
      for (const h of this.#handlers) {
        if (d.type === "added") this.#call(() => h.onAdd?.(d.obj));
        else if (d.type === "updated") this.#call(() => h.onUpdate?.(d.old, d.obj));
        else this.#call(() => h.onDelete?.(d.obj));
      }
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, "Event handler failed");
    }
  }
}

/** Exponential backoff with full jitter above the base: delay ∈ [d, 2d), d doubling up to max. */
export class Backoff {
  readonly #opts: BackoffOptions;
  readonly #random: () => number;
  #current: number;

  constructor(opts: BackoffOptions, random: () => number = Math.random) {
    this.#opts = opts;
    this.#random = random;
    this.#current = opts.initialMs;
  }

  next(): number {
    const d = Math.min(jitter(this.#current, 1, this.#random), this.#opts.maxMs);
    this.#current = Math.min(this.#current * 2, this.#opts.maxMs);
    return d;
  }

  reset(): void {
    this.#current = this.#opts.initialMs;
  }
}
