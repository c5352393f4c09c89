/**
 * Reading a controller's Job and its pods from the apiserver, the same way for every kind: a Job by its
 * deterministic name (undefined when there is none, so "create it" and "adopt it" are one decision), and
 * the pods that ran it — by the Job controller's `job-name` label and owned by this very Job, not by an
 * earlier Job of the same name (a retried restore, a re-created backup).
 */
import { isNotFound } from "../../runtime/errors.ts";
import { JOBS, PODS } from "../resources.ts";
import type { OperatorContext } from "./context.ts";
import type { JobObject, PodObject } from "./job-objects.ts";

/** The Job of that name, or undefined (GET: the caller has looked in its cache first, if it has one). */
export async function getJob(ctx: OperatorContext, namespace: string, name: string): Promise<JobObject | undefined> {
  try {
    return await ctx.client.get<JobObject>(JOBS, { namespace, name });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The Job's pods, by its job-name label and owned by this very Job. */
export async function podsOfJob(ctx: OperatorContext, job: JobObject): Promise<PodObject[]> {
  const name = job.metadata?.name ?? "";
  const { items } = await ctx.client.list<PodObject>(PODS, job.metadata?.namespace, { labelSelector: `job-name=${name}` });
  return items.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === job.metadata?.uid));
}
