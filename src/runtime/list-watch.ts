/**
 * The two calls an informer makes, behind an interface so unit tests can script them: list (paginated,
 * giving a resourceVersion) and watch from a resourceVersion. The real one lists with {@link RestClient}
 * and watches with {@link watchStream}: a GET with `watch=true` over the client's access, its body read as
 * one JSON event per line.
 *
 * A watch without a byte for `watchIdleLimitMs` is aborted (a TimeoutError, which the informer treats as
 * a quiet close and re-watches). The client library's Watch used 30 s, so a watch of a quiet namespace,
 * which has no events for minutes, was re-made twice a minute: steady-state requests grew with
 * namespaces × kinds (~940 a minute over 50 namespaces, measured by bench/scale.ts). The idle limit is
 * past the watch's own server-side `timeoutSeconds`, so a healthy watch ends when the apiserver ends it;
 * a connection that silently died is the informer's watchdog's (timeoutSeconds + watchGraceMs,
 * src/runtime/informer.ts), which fires first.
 */
import type { Dispatcher } from "undici";
import { ApiError } from "./errors.ts";
import type { KubeAccess } from "./kube-access.ts";
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
  /** Closes the connection; the done callback is not called after it. */
  abort(): void;
}

export interface ListerWatcher<T extends KubeObject> {
  /** Lists; with `transform`, every item comes out transformed (the real one as each page arrives). */
  list(namespace: string | undefined, signal: AbortSignal, transform?: (obj: T) => T): Promise<ListResult<T>>;
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
  return {
    list: (namespace, signal, transform) => client.list<T>(rt, namespace, { ...selectors, signal, ...(transform ? { transform } : {}) }),
    watch: (namespace, req, onEvent, onDone) =>
      watchStream(
        client.access,
        resourcePath(rt, namespace),
        {
          resourceVersion: req.resourceVersion,
          timeoutSeconds: req.timeoutSeconds,
          allowWatchBookmarks: req.allowWatchBookmarks,
          labelSelector: selectors.labelSelector,
          fieldSelector: selectors.fieldSelector,
        },
        watchIdleLimitMs(req.timeoutSeconds),
        onEvent,
        onDone,
      ),
  };
}

/** The client-side idle limit of a watch: twice its server-side timeout plus a minute (see the module's TSDoc). */
export function watchIdleLimitMs(timeoutSeconds: number): number {
  return (2 * timeoutSeconds + 60) * 1000;
}

/**
 * One watch request: `GET path?watch=true&…`, each line of the body parsed as `{type, object}` and handed
 * to `onEvent` (an ERROR event's object is the Status, as the apiserver sent it). `onDone` is called once:
 * with nothing when the server ends the stream, with the error otherwise: a non-2xx answer is an
 * {@link ApiError} with the status; a line that is not JSON ends the watch with an error (the informer
 * re-watches from the last resourceVersion, so no event is skipped); `idleLimitMs` without a byte, from the
 * request on, aborts it with a TimeoutError. After the handle's abort() it is not called.
 */
export async function watchStream(
  access: KubeAccess,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  idleLimitMs: number,
  onEvent: (type: WatchEventType, obj: unknown) => void,
  onDone: (err?: unknown) => void,
): Promise<WatchHandle> {
  const url = new URL(access.server + path);
  url.searchParams.set("watch", "true");
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const controller = new AbortController();
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let owned: Dispatcher | undefined;
  const end = () => {
    done = true;
    clearTimeout(timer);
    controller.abort();
    void owned?.destroy().catch(() => {});
  };
  const finish = (err?: unknown) => {
    if (done) return;
    end();
    onDone(err);
  };
  const touch = () => {
    if (done) return;
    clearTimeout(timer);
    timer = setTimeout(() => finish(new DOMException(`watch ${path}: no data for ${idleLimitMs} ms`, "TimeoutError")), idleLimitMs);
    timer.unref();
  };
  const handle: WatchHandle = {
    abort: end,
  };
  touch();
  let res: Dispatcher.ResponseData;
  try {
    const { headers, dispatcher, owned: isOwned } = await access.prepare({ forWatch: true });
    if (isOwned) owned = dispatcher;
    if (done) {
      end();
      return handle;
    }
    res = await dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: "GET",
      headers: { ...headers, Accept: "application/json" },
      signal: controller.signal,
      // The idle timer above is the limit; undici's own 300 s body timeout would cut a quiet watch.
      bodyTimeout: 0,
    });
  } catch (err) {
    finish(err);
    return handle;
  }
  if (res.statusCode < 200 || res.statusCode > 299) {
    const text = await res.body.text().catch(() => "");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    finish(new ApiError("GET", path, res.statusCode, body));
    return handle;
  }
  void readEvents(res.body, touch, (line) => {
    if (done) return;
    let event: { type?: unknown; object?: unknown };
    try {
      event = JSON.parse(line) as { type?: unknown; object?: unknown };
    } catch {
      finish(new Error(`watch ${path}: an event that is not JSON: ${line.slice(0, 200)}`));
      return;
    }
    onEvent(event.type as WatchEventType, event.object);
  }).then(
    () => finish(),
    (err: unknown) => finish(err),
  );
  return handle;
}

/** Reads `body` to its end, calling `onLine` per non-empty line and `onData` per chunk. */
async function readEvents(body: AsyncIterable<Buffer>, onData: () => void, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    onData();
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== "") onLine(line);
    }
  }
  const rest = (pending + decoder.decode()).trim();
  if (rest !== "") onLine(rest);
}
