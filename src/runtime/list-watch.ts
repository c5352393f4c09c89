/**
 * The two calls an informer makes, behind an interface so unit tests can script them: list (paginated,
 * giving a resourceVersion) and watch from a resourceVersion. The real one lists with {@link RestClient}
 * and watches with @kubernetes/client-node's Watch class.
 *
 * That class aborts a watch after `requestTimeoutMs` (30 s by default) without a byte from the server.
 * A watch of a quiet namespace has no events for minutes, so every informer re-watched twice a minute:
 * steady-state requests grew with namespaces × kinds (~940 a minute over 50 namespaces, measured by
 * bench/scale.ts). The idle limit is set past the watch's own server-side `timeoutSeconds`, so a healthy
 * watch ends when the apiserver ends it; a connection that silently died is the informer's watchdog's
 * (timeoutSeconds + watchGraceMs, src/runtime/informer.ts), which fires first.
 */
import { Watch } from "@kubernetes/client-node";
import type { ListResult, RestClient } from "./rest-client.ts";
import { resourcePath, type KubeObject, type ResourceType } from "./resource.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** The Status object an ERROR event carries; code 410 means the resourceVersion is too old. */
export interface WatchStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export interface WatchRequest {
  resourceVersion: string;
  /** Server-side limit on the watch's life; the apiserver closes it cleanly after this. */
  timeoutSeconds: number;
  allowWatchBookmarks: boolean;
}

export interface WatchHandle {
  /** Closes the connection; the done callback may still be called once. */
  abort(): void;
}

export interface ListerWatcher<T extends KubeObject> {
  list(namespace: string | undefined, signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Starts a watch. `onEvent` is called per event; `onDone` once when the watch ends: with no error when the
   * server closed it, with the error otherwise. May call onDone before the returned promise resolves.
   */
  watch(namespace: string | undefined, req: WatchRequest, onEvent: (type: WatchEventType, obj: unknown) => void, onDone: (err?: unknown) => void): Promise<WatchHandle>;
}

export interface Selectors {
  labelSelector?: string;
  fieldSelector?: string;
}

/** List and watch `rt` on the apiserver `client` talks to. */
export function kubeListerWatcher<T extends KubeObject>(client: RestClient, rt: ResourceType, selectors: Selectors = {}): ListerWatcher<T> {
  const watcher = new Watch(client.kubeConfig);
  return {
    list: (namespace, signal) => client.list<T>(rt, namespace, { ...selectors, signal }),
    async watch(namespace, req, onEvent, onDone) {
      // Read by the class when each watch starts and at each chunk; one informer runs one watch at a time.
      // (private in the class's typings, a plain field in its code: the one way to set it.)
      (watcher as unknown as { requestTimeoutMs: number }).requestTimeoutMs = watchIdleLimitMs(req.timeoutSeconds);
      const controller = await watcher.watch(
        resourcePath(rt, namespace),
        {
          resourceVersion: req.resourceVersion,
          timeoutSeconds: req.timeoutSeconds,
          allowWatchBookmarks: req.allowWatchBookmarks,
          labelSelector: selectors.labelSelector,
          fieldSelector: selectors.fieldSelector,
        },
        (type: string, obj: unknown) => onEvent(type as WatchEventType, obj),
        (err: unknown) => onDone(err ?? undefined),
      );
      return { abort: () => controller.abort() };
    },
  };
}

/** The client-side idle limit of a watch: twice its server-side timeout plus a minute (see the module's TSDoc). */
export function watchIdleLimitMs(timeoutSeconds: number): number {
  return (2 * timeoutSeconds + 60) * 1000;
}
