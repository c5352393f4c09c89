/**
 * Writes a pod's status the way the kubelet's status manager does: the latest computed status replaces
 * the agent-owned fields of the pod's current status through the status subresource (PUT pods/status,
 * carrying the resourceVersion it was computed from). A 409 means the pod changed meanwhile: re-read it
 * and write again. Requests coalesce: however often the state changes, one write is in flight.
 */
import { isApiError, type ApiClient } from "./api-client.ts";
import type { Logger } from "./logger.ts";
import { apiTime, mergeStatus, type OwnedStatus } from "./pod-status.ts";
import { podKey, type Pod } from "./types.ts";

export interface StatusSource {
  /** The newest pod object the worker knows. */
  current(): Pod;
  /** Adopts a newer pod object (the write's answer, or a re-read after a conflict). */
  adopt(pod: Pod): void;
  /** The status to report now. */
  compute(): OwnedStatus;
}

export class StatusSync {
  private readonly api: ApiClient;
  private readonly log: Logger;
  private readonly source: StatusSource;
  private dirty = false;
  private running: Promise<void> | undefined;
  private gone = false;

  constructor(api: ApiClient, log: Logger, source: StatusSource) {
    this.api = api;
    this.log = log;
    this.source = source;
  }

  /** Asks for a write; resolves when the status computed after this call is written (or the pod is gone). */
  request(): Promise<void> {
    this.dirty = true;
    if (!this.running) {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.dirty && !this.gone) {
      this.dirty = false;
      const pod = this.source.current();
      const status = mergeStatus(pod, this.source.compute(), apiTime());
      if (JSON.stringify(status) === JSON.stringify(pod.status ?? {})) continue;
      const path = `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`;
      try {
        const updated = await this.api.request<Pod>(path, { method: "PUT", body: { ...pod, status } });
        this.source.adopt(updated);
        failures = 0;
        this.log.debug({ pod: podKey(pod), phase: status.phase }, "Status updated");
      } catch (err) {
        if (isApiError(err, 404)) {
          this.gone = true;
          return;
        }
        this.dirty = true;
        if (isApiError(err, 409)) {
          const fresh = await this.api.request<Pod>(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`).catch(() => undefined);
          if (fresh && fresh.metadata.uid !== pod.metadata.uid) {
            this.gone = true;
            return;
          }
          if (fresh) this.source.adopt(fresh);
          else await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        failures++;
        this.log.warn({ pod: podKey(pod), err: String(err) }, "Failed to update pod status");
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** failures, 5000)));
      }
    }
  }
}
