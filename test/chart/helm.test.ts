/**
 * charts/qdrant-operator with the real helm v4: lint --strict and template for the default and every
 * documented combination (charts/qdrant-operator/ci/), the schema refusing bad values with its message,
 * and each rendering applied with a server-side dry run to the test control plane.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CHART, dryRunApply, ensureMonitoringCrdsInstalled, ensureNamespaces, helm } from "./tools.ts";
import { MANAGER_NODE_FLAGS } from "../../src/manager/node-flags.ts";

const combinations = (await readdir(join(CHART, "ci"))).filter((f) => f.endsWith("-values.yaml")).sort();

test("the documented combinations are there", () => {
  assert.deepEqual(combinations, ["cluster-wide-values.yaml", "ha-values.yaml", "monitoring-values.yaml", "namespaced-values.yaml"]);
});

test("helm lint --strict passes with the default values and each combination", async () => {
  await helm(["lint", "--strict", CHART]);
  for (const f of combinations) await helm(["lint", "--strict", CHART, "-f", join(CHART, "ci", f)]);
});

const render = async (values: string[], extra: string[] = []) =>
  (await helm(["template", "qdrant-operator", CHART, "--namespace", "qdrant-operator", "--include-crds", ...values.flatMap((v) => ["-f", v]), ...extra])).stdout;

for (const f of ["(defaults)", ...combinations]) {
  test(`helm template ${f} applies with a server-side dry run`, async () => {
    await ensureNamespaces(["qdrant-operator", "chart-team-a", "chart-team-b"]);
    await ensureMonitoringCrdsInstalled();
    const manifests = await render(f === "(defaults)" ? [] : [join(CHART, "ci", f)]);
    const out = await dryRunApply(manifests);
    assert.match(out, /deployment\.apps\/qdrant-operator serverside-applied \(server dry run\)/);
    assert.match(out, /customresourcedefinition\.apiextensions\.k8s\.io\/qdrantbackups\.qdrant-operator\.dev serverside-applied/);
    if (f === "namespaced-values.yaml") {
      assert.doesNotMatch(out, /clusterrole/);
      assert.match(manifests, /name: WATCH_NAMESPACES\n\s+value: "chart-team-a,chart-team-b"/);
      assert.equal(out.match(/role\.rbac\.authorization\.k8s\.io\/qdrant-operator serverside/g)?.length, 2, out);
    } else {
      assert.match(out, /clusterrole\.rbac\.authorization\.k8s\.io\/qdrant-operator serverside-applied/);
    }
    if (f === "ha-values.yaml") assert.match(out, /poddisruptionbudget\.policy\/qdrant-operator serverside-applied/);
    if (f === "monitoring-values.yaml") {
      assert.match(out, /servicemonitor\.monitoring\.coreos\.com\/qdrant-operator serverside-applied/);
      assert.match(out, /prometheusrule\.monitoring\.coreos\.com\/qdrant-operator serverside-applied/);
      assert.match(out, /configmap\/qdrant-operator-dashboard serverside-applied/);
      assert.match(manifests, /grafana_dashboard: "1"/);
    }
  });
}

test("the Deployment runs the manager restricted, with probes and the leader election's downward API", async () => {
  const manifests = await render([join(CHART, "ci", "ha-values.yaml")]);
  for (const line of [
    `command: [${["node", ...MANAGER_NODE_FLAGS, "/app/dist/main.js"].map((a) => JSON.stringify(a)).join(", ")}]`, "- manager", "- --leader-elect=true", "- --http-address=:8080", "replicas: 2",
    "path: /healthz", "path: /readyz", "runAsNonRoot: true", "readOnlyRootFilesystem: true", "allowPrivilegeEscalation: false",
    "type: RuntimeDefault", 'drop: ["ALL"]', "fieldPath: metadata.name", "name: LEADER_ELECTION_NAMESPACE", "name: POD_NAME",
    "- --default-job-image=ghcr.io/qdrant-operator/qdrant-operator:0.1.0",
  ]) assert.ok(manifests.includes(line), `missing ${line}`);
});

const BAD: Array<[string, string, RegExp]> = [
  ["two replicas without leader election", "replicas: 2\nleaderElection:\n  enabled: false\n", /at '\/leaderElection\/enabled'/],
  ["zero replicas", "replicas: 0\n", /at '\/replicas': minimum: got 0, want 1/],
  ["a namespace name that is not one", "watch:\n  namespaces: [Team_A]\n", /at '\/watch\/namespaces\/0'.*does not match pattern/],
  ["a misspelt key", "replica: 2\n", /additional properties 'replica' not allowed/],
  ["an unknown log level", "logLevel: verbose\n", /at '\/logLevel'/],
];

for (const [what, values, message] of BAD) {
  test(`the schema refuses ${what}, saying where`, async () => {
    const file = join(await mkdtemp(join(tmpdir(), "qdrant-operator-values-")), "values.yaml");
    await writeFile(file, values);
    const err = await render([file]).then(() => undefined, (e: Error) => e);
    assert.ok(err, "helm template accepted the values");
    assert.match(err.message, /values don't meet the specifications of the schema/);
    assert.match(err.message, message);
    await assert.rejects(helm(["lint", "--strict", CHART, "-f", file]), message);
  });
}
