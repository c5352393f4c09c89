/**
 * QdrantConnection: checks that Qdrant answers with the configured address and key, and records its
 * version and every peer's REST address (from GET /cluster), which backups and restores then use. Checked
 * again every minute, so Ready follows Qdrant's availability.
 */
import type { QdrantConnectionSpec, QdrantConnectionStatus } from "../../api/v1alpha1/qdrant-connection.ts";
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { isOperatorError } from "../../errors.ts";
import { resolveConnection, type ResolvedConnection } from "../../qdrant/endpoint.ts";
import { discoverTopology } from "../../qdrant/peers.ts";
import { toKubeTime } from "../../runtime/conditions.ts";
import { Controller, DONE, requeueAfter } from "../../runtime/controller.ts";
import { enqueueObject, generationChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeObject } from "../../runtime/resource.ts";
import { QDRANT_CONNECTIONS } from "../resources.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions, withConditions, type ConditionUpdate } from "../shared/conditions.ts";
import { readSecretKey } from "../shared/secrets.ts";
import { servicePort } from "../shared/services.ts";

export interface QdrantConnectionObject extends KubeObject {
  spec: QdrantConnectionSpec;
  status?: QdrantConnectionStatus;
}

const RECHECK_MS = 60_000;
const RETRY_MS = 15_000;

/**
 * A QdrantConnection resolved with the manager's own reads (its Secrets, a named Service port): what the
 * connection check and the failed-backup sweep call Qdrant with.
 */
export function resolveConnectionOf(ctx: OperatorContext, namespace: string, spec: QdrantConnectionSpec): Promise<ResolvedConnection> {
  return resolveConnection(
    spec,
    namespace,
    (ref, field) => readSecretKey(ctx.client, ctx.redactor, namespace, ref, field),
    (ns, svc, port) => servicePort(ctx.client, ns, svc, port),
  );
}

export function qdrantConnectionController(ctx: OperatorContext, informer: Informer<QdrantConnectionObject>): Controller {
  const controller = new Controller({
    name: "qdrantconnections",
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log }) {
      const obj = informer.cache.get(key);
      if (!obj) return DONE;
      const namespace = key.namespace ?? "";
      const generation = obj.metadata?.generation;
      const now = ctx.clock.now();
      const write = async (status: QdrantConnectionStatus, ready: ConditionUpdate) => {
        if (ready.status !== "True" && transitions(obj.status?.conditions, "Ready", ready.status, ready.reason)) {
          ctx.events.event({ regarding: obj, type: "Warning", reason: ready.reason, action: "Connect", note: ready.message });
        } else if (ready.status === "True" && transitions(obj.status?.conditions, "Ready", "True", ready.reason)) {
          ctx.events.event({ regarding: obj, type: "Normal", reason: ready.reason, action: "Connect", note: ready.message });
        }
        const conditions = withConditions(obj.status?.conditions, generation, now, ready);
        await ctx.status.updateStatusIfChanged(QDRANT_CONNECTIONS, obj, { ...status, observedGeneration: generation, conditions });
      };

      const problems = validateSpec("QdrantConnection", obj.spec);
      if (problems.length > 0) {
        await write({ ...obj.status }, { type: "Ready", status: "False", reason: "InvalidSpec", message: describeProblems(problems) });
        return DONE;
      }
      try {
        const resolved = await resolveConnectionOf(ctx, namespace, obj.spec);
        const topology = await discoverTopology(resolved.endpoint, resolved.discovery);
        const peers = topology.peers.length;
        log.debug({ version: topology.version, peers }, "Checked Qdrant");
        await write(
          { version: topology.version, mode: topology.mode, peers: topology.peers, lastCheckTime: toKubeTime(now) },
          { type: "Ready", status: "True", reason: "Connected", message: `Qdrant ${topology.version}, ${topology.mode.toLowerCase()}, ${peers} peer${peers === 1 ? "" : "s"}.` },
        );
        return requeueAfter(RECHECK_MS);
      } catch (err) {
        if (!isOperatorError(err)) throw err;
        await write({ ...obj.status, lastCheckTime: toKubeTime(now) }, { type: "Ready", status: "False", reason: err.reason, message: ctx.redactor.scrub(err.message) });
        return requeueAfter(RETRY_MS);
      }
    },
  });
  controller.watch(informer, (enqueue) => enqueueObject(enqueue, generationChanged));
  return controller;
}
