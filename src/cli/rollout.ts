/**
 * `kubectl qdrant rollout status|promote|abort|undo <name>` on a CollectionRollout. Each request is the
 * spec field the rollout controller reads, set by a merge patch, nothing else:
 * - promote: spec.promotion.approved = true (Manual mode, while the rollout awaits promotion);
 * - abort: spec.abort = true (before the switch: deletes green if the rollout created it);
 * - undo: spec.rollback = true (after the switch: the alias points at the previous collection again).
 * The plugin refuses a request the controller would ignore, and says what applies instead.
 */
import type { CollectionRolloutSpec, CollectionRolloutStatus } from "../api/v1alpha1/rollout.ts";
import { COLLECTION_ROLLOUTS } from "../controllers/resources.ts";
import type { KubeObject } from "../runtime/resource.ts";
import { checkFlags, outputFormat, UsageError, type ParsedArgs } from "./args.ts";
import { call, CliError, connect } from "./kube.ts";
import { age, emit, readyProblem, table } from "./output.ts";

export const HELP = `Inspect and steer a CollectionRollout.

Usage:
  kubectl qdrant rollout status <name>    phase, alias, active and green collection, gates, failure
  kubectl qdrant rollout promote <name>   approve promotion (spec.promotion.approved: true; Manual mode)
  kubectl qdrant rollout abort <name>     stop before the switch (spec.abort: true)
  kubectl qdrant rollout undo <name>      point the alias back at the previous collection (spec.rollback: true)

Flags:
  -n, --namespace <ns>      namespace (default: the context's)
  -o, --output json|yaml    print the CollectionRollout
      --kubeconfig <file>, --context <name>   as for kubectl
`;

interface RolloutObject extends KubeObject {
  spec: CollectionRolloutSpec;
  status?: CollectionRolloutStatus & { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

const BEFORE_SWITCH = new Set(["", "Pending", "Preparing", "Validating", "AwaitingPromotion"]);

export async function rollout(args: ParsedArgs): Promise<void> {
  checkFlags(args, [], "rollout");
  const [, action, name] = args.words;
  if (action === undefined || !["status", "promote", "abort", "undo"].includes(action)) throw new UsageError(`rollout needs one of status, promote, abort, undo${action ? `, not "${action}"` : ""}; see kubectl qdrant rollout --help`);
  if (name === undefined || args.words.length > 3) throw new UsageError(`rollout ${action} takes one CollectionRollout name`);
  const format = outputFormat(args);
  const { client, namespace } = connect(args);
  const r = await call("get", COLLECTION_ROLLOUTS, namespace, name, () => client.get<RolloutObject>(COLLECTION_ROLLOUTS, { namespace, name }));
  if (action === "status") {
    emit(format, r, () => statusScreen(r));
    return;
  }
  const phase = r.status?.phase ?? "";
  const patch = requestFor(action, r, phase);
  const updated = await call("patch", COLLECTION_ROLLOUTS, namespace, name, () => client.patch<RolloutObject>(COLLECTION_ROLLOUTS, { namespace, name }, patch));
  emit(format, updated, () => `collectionrollout/${name} ${action === "promote" ? "promotion approved" : action === "abort" ? "abort requested" : "rollback requested"}\n`);
}

/** The merge patch of one request, or a CliError when the controller would not act on it in this phase. */
function requestFor(action: string, r: RolloutObject, phase: string): unknown {
  const name = r.metadata?.name ?? "";
  if (action === "promote") {
    if ((r.spec.promotion?.mode ?? "Auto") !== "Manual") throw new CliError(`rollout ${name} promotes itself (spec.promotion.mode is Auto) once its gates pass; approval is for Manual mode`);
    if (!BEFORE_SWITCH.has(phase)) throw new CliError(`rollout ${name} is ${phase}: there is nothing left to promote`);
    return { spec: { promotion: { approved: true } } };
  }
  if (action === "abort") {
    if (!BEFORE_SWITCH.has(phase)) throw new CliError(`rollout ${name} is ${phase}: abort applies before the switch${phase === "Promoted" ? `; kubectl qdrant rollout undo ${name} points the alias back` : ""}`);
    return { spec: { abort: true } };
  }
  if (phase !== "Promoted") throw new CliError(`rollout ${name} is ${phase || "Pending"}: undo applies once it is Promoted${BEFORE_SWITCH.has(phase) ? `; kubectl qdrant rollout abort ${name} stops it before the switch` : ""}`);
  return { spec: { rollback: true } };
}

function statusScreen(r: RolloutObject): string {
  const s = r.status ?? {};
  const lines = [
    `Rollout:   ${r.metadata?.namespace}/${r.metadata?.name} (${age(r.metadata?.creationTimestamp)} old)`,
    `Phase:     ${s.phase ?? "Pending"}`,
    `Alias:     ${r.spec.alias} -> ${s.phase === "Promoted" ? r.spec.collection : s.activeCollection || "<none>"}`,
    `Green:     ${r.spec.collection}`,
    `Promotion: ${r.spec.promotion?.mode ?? "Auto"}${r.spec.promotion?.approved ? " (approved)" : ""}`,
  ];
  if (s.previousCollection) lines.push(`Previous:  ${s.previousCollection}`);
  if (s.copy) lines.push(`Copied:    ${s.copy.copiedPoints}${s.copy.totalPoints !== undefined ? `/${s.copy.totalPoints}` : ""} points`);
  if (s.failure) lines.push(`Failure:   ${s.failure.reason}: ${s.failure.message}`);
  else {
    const problem = readyProblem(r);
    if (problem) lines.push(`Waiting:   ${problem}`);
  }
  let out = lines.join("\n") + "\n";
  if (s.gates && s.gates.length > 0) {
    out += "\n" + table(["gate", "passed", "observed", "threshold", "message"], s.gates.map((g) => ({ gate: g.name, passed: String(g.passed), observed: g.observed ?? "", threshold: g.threshold ?? "", message: g.message ?? "" })));
  }
  return out;
}
