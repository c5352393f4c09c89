/**
 * The controller for kinds whose real controller is not built yet. It validates each object against the
 * CRD's schema (objects written before a schema change reach it too) and records, without pretending to
 * do the work: Accepted=True/Validated or Accepted=False/InvalidSpec naming the fields, and
 * Ready=Unknown/NotImplemented so nobody mistakes an accepted object for a working one.
 */
import { describeProblems, validateSpec } from "../../api/validate.ts";
import { Controller, DONE } from "../../runtime/controller.ts";
import { enqueueObject, generationChanged } from "../../runtime/handlers.ts";
import type { Informer } from "../../runtime/informer.ts";
import type { KubeObject, ResourceType } from "../../runtime/resource.ts";
import type { Condition } from "../../runtime/conditions.ts";
import type { OperatorContext } from "../shared/context.ts";
import { transitions, withConditions } from "../shared/conditions.ts";

interface ValidatedObject extends KubeObject {
  spec?: unknown;
  status?: { observedGeneration?: number; conditions?: Condition[] } & Record<string, unknown>;
}

export function validationController(ctx: OperatorContext, rt: ResourceType, informer: Informer<ValidatedObject>): Controller {
  const controller = new Controller({
    name: rt.plural,
    logger: ctx.logger,
    workers: ctx.workers,
    clock: ctx.clock,
    async reconcile(key, { log }) {
      const obj = informer.cache.get(key);
      if (!obj) return DONE;
      const generation = obj.metadata?.generation;
      const problems = validateSpec(rt.kind, obj.spec);
      const now = ctx.clock.now();
      const current = obj.status?.conditions;
      let conditions: Condition[];
      if (problems.length > 0) {
        const message = describeProblems(problems);
        if (transitions(current, "Accepted", "False", "InvalidSpec")) {
          ctx.events.event({ regarding: obj, type: "Warning", reason: "InvalidSpec", action: "Validate", note: message });
          log.info({ problems }, "Spec is invalid");
        }
        conditions = withConditions(current, generation, now, { type: "Accepted", status: "False", reason: "InvalidSpec", message }, { type: "Ready", status: "False", reason: "InvalidSpec", message });
      } else {
        conditions = withConditions(
          current,
          generation,
          now,
          { type: "Accepted", status: "True", reason: "Validated", message: "The spec is valid." },
          { type: "Ready", status: "Unknown", reason: "NotImplemented", message: `This version of the operator validates ${rt.kind} resources but does not act on them yet.` },
        );
      }
      await ctx.status.updateStatusIfChanged(rt, obj, { ...obj.status, observedGeneration: generation, conditions });
      return DONE;
    },
  });
  // Status writes do not change the generation, so they do not wake this controller again.
  controller.watch(informer, (enqueue) => enqueueObject(enqueue, generationChanged));
  return controller;
}
