/**
 * A ValidatingAdmissionPolicy, bound to one namespace, that refuses creates of one resource the way an
 * admission webhook or a policy engine would in a real cluster: with 422 (`reason: "Invalid"`) or 403
 * (`"Forbidden"`) and the policy's message. Deleted when the test ends.
 */
import type { TestContext } from "node:test";
import { kubectl } from "./kubectl.ts";
import { eventually } from "./eventually.ts";

export interface AdmissionPolicy {
  apiGroup: string;
  /** Plural, e.g. "jobs", "qdrantbackups". */
  resource: string;
  /** CEL over `object`: the create is refused where it is false. */
  expression: string;
  message: string;
  reason: "Invalid" | "Forbidden";
  /** An object the policy refuses: dry-run created (server side) until it is refused, so the policy is in force. */
  probe: object;
}

/** Applies the policy and its binding; resolves once a server-side dry run of `probe` is refused. */
export async function useAdmissionPolicy(t: TestContext, namespace: string, p: AdmissionPolicy): Promise<void> {
  const name = `e2e-${p.resource}-${namespace}`.slice(0, 253);
  const apiVersion = "admissionregistration.k8s.io/v1";
  const policy = {
    apiVersion,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: { resourceRules: [{ apiGroups: [p.apiGroup], apiVersions: ["*"], operations: ["CREATE"], resources: [p.resource] }] },
      validations: [{ expression: p.expression, message: p.message, reason: p.reason }],
    },
  };
  const binding = { apiVersion, kind: "ValidatingAdmissionPolicyBinding", metadata: { name }, spec: { policyName: name, validationActions: ["Deny"], matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } } } };
  await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: [policy, binding] }));
  t.after(async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding", name, "--ignore-not-found"]);
    await kubectl(["delete", "validatingadmissionpolicy", name, "--ignore-not-found"]);
  });
  // A policy takes effect a moment after it is created.
  await eventually(`the admission policy on ${p.resource} in force`, async () => {
    try {
      await kubectl(["create", "-n", namespace, "--dry-run=server", "-f", "-"], JSON.stringify(p.probe));
      return undefined;
    } catch (err) {
      return /denied request/.test((err as { stderr?: string }).stderr ?? "") || undefined;
    }
  });
}
