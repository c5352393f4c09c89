/**
 * An informer for unit tests of what controllers do with events: started against a lister-watcher that
 * lists nothing and hands the test the watch, so `send` is a watch event (cache, indexes, handlers).
 */
import { pino } from "pino";
import { FakeClock } from "../../../src/runtime/clock.ts";
import { Informer } from "../../../src/runtime/informer.ts";
import type { ListerWatcher, WatchEventType } from "../../../src/runtime/list-watch.ts";
import type { KubeObject, ResourceType } from "../../../src/runtime/resource.ts";
import { until } from "../../runtime/fixtures/async.ts";

export interface LiveInformer<T extends KubeObject> {
  informer: Informer<T>;
  send(type: Exclude<WatchEventType, "BOOKMARK" | "ERROR">, obj: T): void;
  stop(): Promise<void>;
}

export async function liveInformer<T extends KubeObject>(resource: ResourceType): Promise<LiveInformer<T>> {
  let push: ((type: WatchEventType, obj: unknown) => void) | undefined;
  const lw: ListerWatcher<T> = {
    list: () => Promise.resolve({ items: [], resourceVersion: "1" }),
    watch: (_ns, _req, onEvent) => {
      push = onEvent;
      return Promise.resolve({ abort: () => {} });
    },
  };
  const informer = new Informer<T>({ resource, listerWatcher: lw, logger: pino({ level: "silent" }), clock: new FakeClock() });
  informer.start();
  await until("watching", () => push !== undefined);
  return { informer, send: (type, obj) => push!(type, obj), stop: () => informer.stop() };
}
