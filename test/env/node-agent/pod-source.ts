/**
 * The pods bound to this node, from the API: list, then watch from the list's resourceVersion; a watch
 * the server ends (timeoutSeconds, so none lives forever) resumes from the last seen resourceVersion, a
 * 410 Gone relists, and any other failure relists after a back-off. Each pod gets a PodWorker; a relist
 * reconciles (pods that vanished meanwhile are treated as deleted).
 */
import { isApiError, query, type ApiClient } from "./api-client.ts";
import type { Logger } from "./logger.ts";
import { PodWorker, type WorkerDeps } from "./pod-worker.ts";
import { podKey, type Pod, type WatchEvent } from "./types.ts";

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  private readonly deps: WorkerDeps;

  constructor(deps: WorkerDeps) {
    this.deps = deps;
  }

  upsert(pod: Pod): void {
    const uid = pod.metadata.uid;
    if (!uid) return;
    const w = this.workers.get(uid);
    if (w) {
      w.update(pod);
      return;
    }
    this.deps.log.info({ pod: podKey(pod), podUID: uid }, "SyncLoop ADD");
    this.workers.set(uid, new PodWorker(pod, this.deps));
  }

  remove(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    const w = this.workers.get(uid);
    if (!w) return;
    this.deps.log.info({ pod: podKey(pod), podUID: uid }, "SyncLoop REMOVE");
    this.workers.delete(uid);
    w.removedFromApi();
  }

  /** After a (re)list: everything listed is current, everything else is gone. */
  reconcile(pods: Pod[]): void {
    const listed = new Set(pods.map((p) => p.metadata.uid));
    for (const w of [...this.workers.values()]) if (!listed.has(w.uid)) this.remove(w.pod);
    for (const p of pods) this.upsert(p);
  }

  /** The worker of the newest pod with this namespace/name (the log server's lookup). */
  byName(namespace: string, name: string): PodWorker | undefined {
    let found: PodWorker | undefined;
    for (const w of this.workers.values()) if (w.pod.metadata.namespace === namespace && w.pod.metadata.name === name) found = w;
    return found;
  }

  async shutdown(graceSeconds: number): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.shutdown(graceSeconds)));
  }
}

interface PodList {
  metadata: { resourceVersion: string };
  items: Pod[];
}

/** Runs list+watch until `signal` aborts. */
export async function watchPods(api: ApiClient, nodeName: string, manager: PodManager, log: Logger, signal: AbortSignal): Promise<void> {
  const fieldSelector = `spec.nodeName=${nodeName}`;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const list = await api.request<PodList>(`/api/v1/pods${query({ fieldSelector })}`, { signal });
      manager.reconcile(list.items);
      let rv = list.metadata.resourceVersion;
      for (;;) {
        let gone = false;
        const path = `/api/v1/pods${query({ fieldSelector, watch: 1, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 240 + Math.floor(Math.random() * 120) })}`;
        await api.watch<Pod>(
          path,
          (ev: WatchEvent<Pod>) => {
            if (ev.type === "ERROR") {
              const status = ev.object as unknown as { code?: number; message?: string };
              if (status.code !== 410) log.warn({ status }, "Pod watch error");
              gone = true;
              return;
            }
            if (ev.object.metadata.resourceVersion) rv = ev.object.metadata.resourceVersion;
            if (ev.type === "ADDED" || ev.type === "MODIFIED") manager.upsert(ev.object);
            else if (ev.type === "DELETED") manager.remove(ev.object);
          },
          signal,
        );
        failures = 0;
        if (gone || signal.aborted) break;
      }
    } catch (err) {
      if (signal.aborted) break;
      failures++;
      if (!isApiError(err, 410)) log.warn({ err: String(err) }, "Pod list/watch failed; relisting");
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** failures, 10_000)));
    }
  }
}
