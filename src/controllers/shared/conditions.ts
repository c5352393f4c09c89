/**
 * Condition bookkeeping shared by the operator's controllers: `Ready` plus, for specs the controller
 * validates itself, `Accepted`. Every condition carries the generation it was computed for.
 */
import { setCondition, type Condition, type ConditionStatus } from "../../runtime/conditions.ts";

export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

export function withConditions(current: readonly Condition[] | undefined, generation: number | undefined, now: Date, ...updates: ConditionUpdate[]): Condition[] {
  let conditions = [...(current ?? [])];
  for (const u of updates) conditions = setCondition(conditions, { ...u, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now);
  return conditions;
}

/** True when the `type` condition would change status (so a Warning Event is worth recording once). */
export function transitions(current: readonly Condition[] | undefined, type: string, status: ConditionStatus, reason: string): boolean {
  const c = current?.find((x) => x.type === type);
  return !c || c.status !== status || c.reason !== reason;
}
