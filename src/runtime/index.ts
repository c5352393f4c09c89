/**
 * The controller runtime: informers, work queues, reconcile loops, leader election, status and Event
 * helpers, health and metrics — the project's equivalent of client-go and controller-runtime. It knows
 * nothing about Qdrant; the operator's controllers are built on it.
 */
export * from "./cache.ts";
export * from "./clock.ts";
export * from "./conditions.ts";
export * from "./config.ts";
export * from "./controller.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./handlers.ts";
export * from "./http-server.ts";
export * from "./indexers.ts";
export * from "./informer.ts";
export * from "./leader-election.ts";
export * from "./list-watch.ts";
export * from "./logger.ts";
export * from "./manager.ts";
export * from "./merge-patch.ts";
export * from "./metrics.ts";
export * from "./rate-limiter.ts";
export * from "./reconcile-signal.ts";
export * from "./redact.ts";
export * from "./resource.ts";
export * from "./rest-client.ts";
export * from "./status-writer.ts";
export * from "./work-queue.ts";
