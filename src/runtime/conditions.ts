/**
 * Status conditions (metav1.Condition). The rule users and `kubectl wait` rely on: lastTransitionTime is the
 * time the condition's status last changed, so it moves only when `status` changes; reason, message and
 * observedGeneration may change without moving it. Functions here never mutate their input, so a
 * reconciler can compare the old and new lists to decide whether a status write is needed at all.
 */

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable: "BackupSucceeded", "InvalidSpec". */
  reason: string;
  message: string;
  /** RFC 3339, second precision, as metav1.Time serializes. */
  lastTransitionTime: string;
  observedGeneration?: number;
}

export type ConditionInput = Omit<Condition, "lastTransitionTime">;

const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/** metav1.Time: RFC 3339 in UTC with whole seconds ("2030-01-01T00:00:00Z"). */
export function toKubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits, as the apiserver's parser expects. */
export function toMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * Returns `conditions` with `input` set: a new condition gets lastTransitionTime `now`; an existing one
 * keeps its lastTransitionTime unless its status changes. Other conditions are kept in order.
 */
export function setCondition(conditions: readonly Condition[] | undefined, input: ConditionInput, now: Date): Condition[] {
  if (!REASON.test(input.reason)) throw new RangeError(`condition reason must be CamelCase (got ${JSON.stringify(input.reason)})`);
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === input.type);
  const existing = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : toKubeTime(now),
    ...(input.observedGeneration !== undefined ? { observedGeneration: input.observedGeneration } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

/** True when two condition lists say the same thing (order-insensitive): no status write needed. */
export function conditionsEqual(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  return x.every((c) => {
    const d = findCondition(y, c.type);
    return (
      d !== undefined &&
      d.status === c.status &&
      d.reason === c.reason &&
      d.message === c.message &&
      d.lastTransitionTime === c.lastTransitionTime &&
      d.observedGeneration === c.observedGeneration
    );
  });
}
