/**
 * QdrantConnection: checks that Qdrant answers with the configured address and key, and records its
 * version and every peer's REST address (from GET /cluster), which backups and restores then use. Checked
 * again every minute, so Ready follows Qdrant's availability. A failed check names the field to fix, in
 * the words a failed backup uses (shared/explain-connection.ts).
 */
import type { QdrantConnectionStatus } from "../../api/v1alpha1/qdrant-connection.ts";
import { describeProblems, prepareValidators, validateSpec } from "../../api/validate.ts";
import { isOperatorError } from "../../errors.ts";
import { QdrantApi } from "../../qdrant/client.ts";
import { discoverTopology } from "../../qdrant/peers.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { Controller, DONE, requeueAfter } from "../../runtime/controller.ts";
import { enqueueObject, generationChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import { QDRANT_CONNECTIONS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import type { CheckMetrics } from "../shared/check-metrics.ts";
import { stampIfChanged } from "../shared/check-time.ts";
import { transitions, withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import { explainConnectionFailure } from "../shared/explain-connection.ts";
import { connectionEndpoint, type QdrantConnectionObject } from "../shared/resolve-connection.ts";

const RECHECK_MS = 60_000;
const RETRY_MS = 15_000;

export function qdrantConnectionController(ctx: OperatorContext, informer: Informer<QdrantConnectionObject>, opts: { metrics?: CheckMetrics } = {}): Controller {
  prepareValidators("QdrantConnection");
  const controller = new Controller({
    name: "qdrantconnections",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log, signal }) {
      const obj = informer.cache.get(key);
      if (!obj) {
        opts.metrics?.forget("QdrantConnection", key.namespace ?? "", key.name);
        return DONE;
      }
      const generation = obj.metadata?.generation;
      const now = ctx.clock.now();
      const write = async (status: QdrantConnectionStatus, ready: ConditionUpdate) => {
        if (ready.status !== "True" && transitions(obj.status?.conditions, "Ready", ready.status, ready.reason)) {
          ctx.events.event({ regarding: obj, type: "Warning", reason: ready.reason, action: "Connect", note: ready.message });
        } else if (ready.status === "True" && transitions(obj.status?.conditions, "Ready", "True", ready.reason)) {
          ctx.events.event({ regarding: obj, type: "Normal", reason: ready.reason, action: "Connect", note: ready.message });
        }
        opts.metrics?.checked("QdrantConnection", key.namespace ?? "", key.name, ready.status === "True", now);
        const conditions = withConditions(obj.status?.conditions, generation, now, ready);
        await ctx.status.updateStatusIfChanged(QDRANT_CONNECTIONS, obj, stampIfChanged(obj.status, { ...status, observedGeneration: generation, conditions }, "lastCheckTime", toKubeTime(now)));
      };

      const problems = validateSpec("QdrantConnection", obj.spec);
      if (problems.length > 0) {
        await write({ ...obj.status }, { type: "Ready", status: "False", reason: "InvalidSpec", message: describeProblems(problems) });
        return DONE;
      }
      try {
        const resolved = await connectionEndpoint(ctx, obj, { self: true });
        const api = new QdrantApi(resolved.endpoint, signal);
        const topology = await discoverTopology(api, resolved.discovery);
        // GET / answers without a key (Qdrant's auth lets it through); only Cluster discovery then asks
        // GET /cluster, which needs it. Without that call, a refused key showed Ready until the first backup.
        if (resolved.discovery.mode !== "Cluster") await api.listCollections();
        const peers = topology.peers.length;
        log.debug({ version: topology.version, peers }, "Checked Qdrant");
        await write(
          { version: topology.version, mode: topology.mode, peers: topology.peers },
          { type: "Ready", status: "True", reason: "Connected", message: `Qdrant ${topology.version}, ${topology.mode.toLowerCase()}, ${peers} peer${peers === 1 ? "" : "s"}.` },
        );
        return requeueAfter(RECHECK_MS);
      } catch (err) {
        if (!isOperatorError(err)) throw err;
        // The wording a failed backup uses too, naming the field to fix (spec.url, spec.apiKeySecretRef, spec.tls.caSecretRef).
        const message = explainConnectionFailure(err.reason, err.message, obj, { self: true, from: "the manager" }) ?? err.message;
        await write({ ...obj.status }, { type: "Ready", status: "False", reason: err.reason, message: ctx.redactor.scrub(message) });
        return requeueAfter(RETRY_MS);
      }
    },
  });
  controller.watch(informer, (enqueue) => enqueueObject(enqueue, generationChanged));
  return controller;
}
