/**
 * The manager runs everything a controller process needs, in the order that keeps it safe:
 *
 * 1. the health and metrics server, so probes answer while caches fill;
 * 2. the informers, and a wait until every cache has synced (a controller acting on a half-filled cache
 *    would think objects are missing);
 * 3. leader election; the controllers' workers run only while this process holds the lease. Informers
 *    run on standby replicas too, so a new leader starts with warm caches and every object queued.
 *
 * Stopping (SIGTERM, stop()): stop handing out keys, drain in-flight reconciles (aborting them after
 * the shutdown timeout), then release the lease — in that order, so no successor reconciles while this
 * process still writes — then stop informers and the server.
 *
 * Losing the lease (renewals failing for the renew deadline): abort in-flight reconciles at once, stop,
 * and make run() reject with {@link LeaderElectionLostError}; the process should exit non-zero and be
 * restarted, as controller-runtime's managers do. Re-joining the election with possibly stale in-memory
 * state is not worth the risk.
 *
 * Fencing: {@link Manager.client}, the client controllers get, refuses every write
 * (WriteRefusedError) unless this process may act as leader: leader election is off, or the
 * lease is held and was renewed within the renew deadline (LeaderElector.holdsLease). The first write
 * attempted after that deadline also aborts in-flight reconciles, even if the renew loop has not yet
 * noticed. So once the lease is known lost nothing of this process reaches the apiserver as a change —
 * not a reconcile that ignores its signal, not an Event — well before a successor may take over
 * (leaseDuration after the last renewal). A standby refuses writes too. After a clean stop has
 * released the lease, writes pass again: every controller has stopped, and only Events still queued are
 * written (they describe, they decide nothing). The lease itself is written through the unfenced client.
 */
import type { Logger } from "pino";
import { realClock, type Clock } from "./clock.ts";
import type { RuntimeConfig } from "./config.ts";
import type { Controller } from "./controller.ts";
import { CacheSyncTimeoutError, LeaderElectionLostError } from "./errors.ts";
import { HealthServer } from "./http-server.ts";
import { stripForCache } from "./cache-transform.ts";
import { Informer } from "./informer.ts";
import { KubeLeaseLock, LeaderElector, type LeaseLock } from "./leader-election.ts";
import { kubeListerWatcher, type Selectors } from "./list-watch.ts";
import { RuntimeMetrics } from "./metrics.ts";
import type { KubeAccess } from "./kube-access.ts";
import { FencedClient, RestClient, type KubeClient } from "./rest-client.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

export interface LeaderElectionSettings {
  /** Must not write through {@link Manager.client}: that client refuses writes until the lease is held. */
  lock: LeaseLock;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface ManagerOptions {
  logger: Logger;
  /**
   * Needed by informerFor() and {@link Manager.client}; optional for managers whose informers are built
   * by hand (tests). Leader election writes its lease through it directly, unfenced.
   */
  client?: KubeClient;
  clock?: Clock;
  metrics?: RuntimeMetrics;
  /** Health and metrics server address; false for none. */
  http?: { host: string; port: number } | false;
  /** false: this process always reconciles (a single replica, or tests). */
  leaderElection?: LeaderElectionSettings | false;
  /** Namespaces informers created by informerFor() watch. Default "all". */
  namespaces?: "all" | string[];
  /** Drain deadline on stop, before in-flight reconciles are aborted. Default 30 s. */
  shutdownTimeoutMs?: number;
  /** How long start-up waits for caches before failing. Default 2 minutes. */
  cacheSyncTimeoutMs?: number;
}

type State = "new" | "starting" | "running" | "stopping" | "stopped";

export class Manager {
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly #opts: ManagerOptions;
  readonly #clock: Clock;
  readonly #informers: Informer<KubeObject>[] = [];
  readonly #shared = new Map<string, Informer<KubeObject>>();
  readonly #controllers: Controller[] = [];
  readonly #stopping = new AbortController();
  #state: State = "new";
  #leading = false;
  #elector: LeaderElector | undefined;
  #server: HealthServer | undefined;
  #address: { host: string; port: number } | undefined;
  #stopped: Promise<void> | undefined;
  #controllersStarted = false;
  /** Ever held the lease in this run. */
  #led = false;
  /** Why writes are refused for good: the lease was lost. */
  #lost: string | undefined;
  readonly #fenced: KubeClient | undefined;
  readonly #finished = Promise.withResolvers<void>();

  constructor(opts: ManagerOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.logger = opts.logger;
    this.metrics = opts.metrics ?? new RuntimeMetrics();
    this.#fenced = opts.client ? new FencedClient(opts.client, () => this.writeRefusal()) : undefined;
  }

  /** A manager configured from parsed flags/env: REST client, namespaces, lease, server address. */
  static fromConfig(config: RuntimeConfig, access: KubeAccess, opts: { logger: Logger; metrics?: RuntimeMetrics; userAgent?: string }): Manager {
    const client = new RestClient(access, opts.userAgent ? { userAgent: opts.userAgent } : {});
    const le = config.leaderElection;
    return new Manager({
      logger: opts.logger,
      client,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      http: config.http,
      namespaces: config.namespaces,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      leaderElection: le.enabled
        ? { lock: new KubeLeaseLock(client, le.namespace, le.name), identity: config.identity, leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs }
        : false,
    });
  }

  /** The client for controllers, Events and status: reads always, writes only while leading (see the top). */
  get client(): KubeClient {
    if (!this.#fenced) throw new Error("this manager was created without a client");
    return this.#fenced;
  }

  #rawClient(): RestClient {
    if (!(this.#opts.client instanceof RestClient)) throw new Error("informerFor() needs a manager created with a RestClient");
    return this.#opts.client;
  }

  /**
   * Undefined when this process may write now; otherwise why not (the message of the
   * WriteRefusedError its client throws). Noticing here that the lease has run out latches the
   * loss and aborts in-flight reconciles.
   */
  writeRefusal(): string | undefined {
    if (!this.#opts.leaderElection) return undefined;
    if (this.#lost !== undefined) return this.#lost;
    if (!this.#led) return "this process is not the leader (it has not acquired the lease)";
    const elector = this.#elector;
    if (this.#leading && elector && !elector.holdsLease()) {
      this.#loseLeadership("the leader lease was not renewed within the renew deadline");
      return this.#lost;
    }
    return undefined;
  }

  #loseLeadership(why: string): void {
    if (this.#lost !== undefined) return;
    this.#lost = why;
    this.logger.error({ reason: why }, "Leadership lost; refusing writes and aborting in-flight reconciles");
    for (const c of this.#controllers) c.abortInFlight(why);
  }

  /**
   * The manager's informer for a resource type, created on first use and shared by every controller that
   * asks (one watch per type, not one per controller). Its cache holds objects without managedFields
   * (cache-transform.ts).
   */
  informerFor<T extends KubeObject>(rt: ResourceType, opts: { selectors?: Selectors; namespaces?: "all" | string[] } = {}): Informer<T> {
    const key = JSON.stringify([rt.group, rt.version, rt.plural, opts.selectors ?? {}, opts.namespaces ?? null]);
    let inf = this.#shared.get(key);
    if (!inf) {
      inf = new Informer<KubeObject>({
        resource: rt,
        listerWatcher: kubeListerWatcher(this.#rawClient(), rt, opts.selectors),
        logger: this.logger,
        clock: this.#clock,
        namespaces: opts.namespaces ?? this.#opts.namespaces ?? "all",
        transform: stripForCache,
      });
      this.#shared.set(key, inf);
      this.addInformer(inf);
    }
    return inf as unknown as Informer<T>;
  }

  addInformer<T extends KubeObject>(informer: Informer<T>): void {
    if (this.#state !== "new") throw new Error("informers must be added before the manager starts");
    this.#informers.push(informer);
  }

  /** Registers a controller; it reports reconciles and its queue to this manager's metrics (unless it has its own). */
  addController(controller: Controller): void {
    if (this.#state !== "new") throw new Error("controllers must be added before the manager starts");
    if (this.#controllers.some((c) => c.name === controller.name)) throw new Error(`duplicate controller name ${controller.name}`);
    controller.useMetrics(this.metrics);
    this.#controllers.push(controller);
  }

  isLeader(): boolean {
    return this.#leading;
  }

  hasSynced(): boolean {
    return this.#informers.every((i) => i.hasSynced());
  }

  /** The health server's bound address, once started. */
  address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /**
   * Starts everything and resolves once the manager has stopped cleanly (stop() or a signal). Rejects with
   * {@link LeaderElectionLostError} or {@link CacheSyncTimeoutError}, after stopping.
   */
  async run(): Promise<void> {
    if (this.#state !== "new") throw new Error("a manager runs once");
    this.#state = "starting";
    const log = this.logger;
    try {
      if (this.#opts.http) {
        this.#server = new HealthServer({
          ...this.#opts.http,
          registry: this.metrics.registry,
          readiness: [
            { name: "informers", check: () => (this.hasSynced() ? undefined : "caches not synced") },
            { name: "leader-election", check: () => (this.#state === "running" ? undefined : `manager ${this.#state}`) },
          ],
        });
        this.#address = await this.#server.start();
        log.info({ address: `${this.#address.host}:${this.#address.port}` }, "Starting metrics and health server");
      }
      for (const i of this.#informers) i.start();
      await this.#waitForSync();
      if (this.#stopping.signal.aborted) return await this.#shutdown();
      this.#state = "running";
      const le = this.#opts.leaderElection;
      if (!le) {
        this.#startControllers();
        await this.#stoppingRequested();
        return await this.#shutdown();
      }
      this.#elector = new LeaderElector({
        ...le,
        logger: log,
        clock: this.#clock,
        onStartedLeading: (leading) => {
          this.#leading = true;
          this.#led = true;
          this.metrics.leaderStatus.set({ name: le.lock.describe() }, 1);
          leading.addEventListener("abort", () => {
            // Leadership ended without a stop(): lost. Stop writing before anyone else may start.
            if (!this.#stopping.signal.aborted) this.#loseLeadership("leader election lost");
          });
          this.#startControllers();
        },
        onStoppedLeading: () => {
          this.#leading = false;
          this.metrics.leaderStatus.set({ name: le.lock.describe() }, 0);
        },
      });
      this.metrics.leaderStatus.set({ name: le.lock.describe() }, 0);
      // The elector keeps renewing while controllers drain; it is stopped (and releases) only after.
      const electorStop = new AbortController();
      const elected = this.#elector.run(electorStop.signal);
      const first = await Promise.race([elected, this.#stoppingRequested().then(() => "stopping" as const)]);
      if (first === "lost") {
        await this.#shutdown();
        throw new LeaderElectionLostError(`lost the lease ${le.lock.describe()}`);
      }
      await this.#shutdown(async () => {
        electorStop.abort();
        await elected;
      });
    } catch (err) {
      await this.#shutdown();
      throw err;
    }
  }

  /** Begins a graceful stop; resolves when run() has finished stopping. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === "new") {
      this.#state = "stopped";
      return;
    }
    this.#stopping.abort();
    await this.#finished.promise;
  }

  #stoppingRequested(): Promise<void> {
    const signal = this.#stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  }

  /** SIGTERM/SIGINT stop gracefully; a second signal exits at once. Returns a function that uninstalls. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): () => void {
    let received = false;
    const handler = (sig: NodeJS.Signals) => {
      if (received) {
        this.logger.warn({ signal: sig }, "Second signal received; exiting immediately");
        exit(1);
        return;
      }
      received = true;
      this.logger.info({ signal: sig }, "Received signal; stopping");
      void this.stop();
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
    return () => {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    };
  }

  #startControllers(): void {
    if (this.#controllersStarted) return;
    this.#controllersStarted = true;
    for (const c of this.#controllers) void c.start();
  }

  async #waitForSync(): Promise<void> {
    const timeoutMs = this.#opts.cacheSyncTimeoutMs ?? 120_000;
    const deadline = new AbortController();
    const cancel = this.#clock.setTimeout(() => deadline.abort(), timeoutMs);
    const either = AbortSignal.any([deadline.signal, this.#stopping.signal]);
    try {
      const synced = await Promise.all(this.#informers.map((i) => i.waitForSync(either)));
      if (synced.every(Boolean)) {
        this.logger.info({ informers: this.#informers.length }, "Caches synced");
        return;
      }
      if (this.#stopping.signal.aborted) return;
      const missing = this.#informers.filter((i) => !i.hasSynced()).map((i) => i.resource.plural + (i.resource.group ? "." + i.resource.group : ""));
      throw new CacheSyncTimeoutError(`caches of ${missing.join(", ")} did not sync within ${timeoutMs} ms (check RBAC and that the CRDs are installed)`);
    } finally {
      cancel();
    }
  }

  #shutdown(releaseLease?: () => Promise<void>): Promise<void> {
    this.#stopped ??= (async () => {
      this.#state = "stopping";
      const timeout = this.#opts.shutdownTimeoutMs ?? 30_000;
      await Promise.all(this.#controllers.map((c) => c.stop(timeout)));
      if (releaseLease) await releaseLease();
      await Promise.all(this.#informers.map((i) => i.stop()));
      await this.#server?.stop();
      this.#state = "stopped";
      this.logger.info("Manager stopped");
      this.#finished.resolve();
    })();
    return this.#stopped;
  }
}
