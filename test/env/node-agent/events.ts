/**
 * Pod events as a kubelet records them (Pulled, Created, Started, Killing, BackOff, Failed, FailedMount),
 * so `kubectl describe pod` and `kubectl get events` tell what happened on the node. Best effort: an
 * event that cannot be written is logged and dropped, never retried.
 */
import { randomBytes } from "node:crypto";
import type { ApiClient } from "./api-client.ts";
import type { Logger } from "./logger.ts";
import { podKey, type Pod } from "./types.ts";

export class EventRecorder {
  private readonly api: ApiClient;
  private readonly log: Logger;
  private readonly nodeName: string;

  constructor(api: ApiClient, log: Logger, nodeName: string) {
    this.api = api;
    this.log = log;
    this.nodeName = nodeName;
  }

  record(pod: Pod, type: "Normal" | "Warning", reason: string, message: string, fieldPath?: string): void {
    const ns = pod.metadata.namespace ?? "default";
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString("hex")}`, namespace: ns },
      involvedObject: { apiVersion: "v1", kind: "Pod", namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid, ...(fieldPath ? { fieldPath } : {}) },
      reason,
      message,
      type,
      source: { component: "kubelet", host: this.nodeName },
      reportingComponent: "kubelet",
      reportingInstance: this.nodeName,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.api.request(`/api/v1/namespaces/${ns}/events`, { method: "POST", body }).catch((err: unknown) => {
      this.log.debug({ pod: podKey(pod), reason, err: String(err) }, "Could not record event");
    });
  }
}
