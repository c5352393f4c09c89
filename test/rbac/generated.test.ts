/**
 * deploy/rbac/ is what `npm run generate` writes from the rbac.ts files, every controller has one, and
 * the rules hold what the operator must never be granted out of them, whoever declares it.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { controllerFolders, loadDeclarations } from "../../src/rbac/declarations.ts";
import { RBAC_DIR, renderRbac, staleRbac } from "../../src/rbac/generate.ts";
import { checkPermissions, rulesFor, type PolicyRule } from "../../src/rbac/manifests.ts";
import { allow, type PermissionSet } from "../../src/rbac/permission.ts";
import { JOBS, QDRANT_BACKUPS, SECRETS } from "../../src/controllers/resources.ts";

const read = async (path: string) => parse(await readFile(join(RBAC_DIR, path), "utf8")) as Record<string, unknown>;

test("the committed deploy/rbac/ is what `npm run generate` writes", async () => {
  assert.deepEqual(await staleRbac(), { write: [], remove: [] }, "deploy/rbac/ is stale: run `npm run generate` and commit the result");
});

test("every controller folder declares its permissions, and the generator reads them all", async () => {
  const folders = await controllerFolders();
  assert.ok(folders.includes("backup") && folders.includes("qdrant-connection"), folders.join(", "));
  const sets = await loadDeclarations();
  assert.deepEqual(sets.map((s) => s.owner), ["manager", ...folders]);
  for (const s of sets) assert.ok(s.permissions.length > 0, `${s.owner} declares nothing`);
});

test("a controller folder without an rbac.ts, or one that exports no RBAC, stops the generator", async () => {
  const dir = await mkdtemp(join(tmpdir(), "qdrant-operator-controllers-"));
  await mkdir(join(dir, "restore"));
  await writeFile(join(dir, "restore", "controller.ts"), "export {};\n");
  await mkdir(join(dir, "shared"));
  await writeFile(join(dir, "shared", "helpers.ts"), "export {};\n");
  assert.deepEqual(await controllerFolders(dir), ["restore"]);
  await assert.rejects(loadDeclarations(dir), /src\/controllers\/restore\/ has a controller but no rbac.ts/);
  await writeFile(join(dir, "restore", "rbac.ts"), "export const PERMISSIONS = [];\n");
  await assert.rejects(loadDeclarations(dir), /src\/controllers\/restore\/rbac.ts must export RBAC: PermissionSet/);
});

test("Secrets are only ever read one by one: get, never list or watch", async () => {
  for (const path of ["cluster-wide/cluster-role.yaml", "namespace/role.yaml", "operator/leader-election-role.yaml"]) {
    const rules = (await read(path)).rules as PolicyRule[];
    for (const r of rules.filter((x) => x.apiGroups.includes("") && x.resources.some((res) => res.startsWith("secrets")))) {
      assert.deepEqual(r.verbs, ["get"], `${path}: ${JSON.stringify(r)}`);
    }
    for (const r of rules) {
      assert.ok(![...r.verbs, ...r.resources, ...r.apiGroups].includes("*"), `${path}: a wildcard in ${JSON.stringify(r)}`);
    }
  }
});

test("a declaration asking to list or watch Secrets, write Pods or touch RBAC is refused, naming who asked", () => {
  const greedy: PermissionSet = { owner: "greedy", permissions: [allow(SECRETS, ["get", "list", "watch"], "wants them all")] };
  assert.throws(() => checkPermissions([greedy]), /greedy: may not list, watch secrets/);
  assert.throws(() => rulesFor([greedy], "watched"), /forbidden permissions declared/);
  assert.throws(() => renderRbac([greedy]), /forbidden permissions declared/);
  const wild: PermissionSet = { owner: "wild", permissions: [allow({ group: "", plural: "*" }, ["get"], "everything")] };
  assert.throws(() => checkPermissions([wild]), /wild: \/\*: wildcards are never granted/);
  const runner: PermissionSet = { owner: "runner", permissions: [allow({ group: "", plural: "pods" }, ["list", "create"], "runs pods itself"), allow({ group: "rbac.authorization.k8s.io", plural: "rolebindings" }, ["get"], "reads bindings")] };
  assert.throws(() => checkPermissions([runner]), /runner: may not create pods[^]*runner: may not get rolebindings/);
  assert.doesNotThrow(() => checkPermissions([{ owner: "reader", permissions: [allow(SECRETS, ["get"], "one key"), allow({ group: "", plural: "pods" }, ["list"], "results")] }]));
});

test("declarations merge into one rule per resource, verbs in a fixed order, each reason kept", () => {
  const sets: PermissionSet[] = [
    { owner: "a", permissions: [allow(JOBS, ["delete", "get"], "cleans up"), allow(QDRANT_BACKUPS, ["patch"], "status", { subresource: "status" })] },
    { owner: "b", permissions: [allow(JOBS, ["watch", "list", "get"], "informer"), allow({ group: "coordination.k8s.io", plural: "leases" }, ["get"], "lease", { scope: "operator" })] },
  ];
  assert.deepEqual(rulesFor(sets, "watched"), [
    { rule: { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "delete"] }, why: ["a: cleans up (delete, get)", "b: informer (watch, list, get)"] },
    { rule: { apiGroups: ["qdrant-operator.dev"], resources: ["qdrantbackups/status"], verbs: ["patch"] }, why: ["a: status (patch)"] },
  ]);
  assert.deepEqual(
    rulesFor(sets, "operator").map((r) => r.rule),
    [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get"] }],
  );
});

test("cluster-wide and per-namespace watch grant the same rules; the Lease only in the operator's namespace", async () => {
  const clusterRole = await read("cluster-wide/cluster-role.yaml");
  const role = await read("namespace/role.yaml");
  assert.deepEqual(clusterRole.rules, role.rules);
  assert.equal((role.metadata as { namespace?: string }).namespace, undefined, "the per-namespace Role lands where it is applied");
  const resources = (r: Record<string, unknown>) => (r.rules as PolicyRule[]).flatMap((x) => x.resources);
  assert.ok(!resources(role).includes("leases"));
  assert.deepEqual(resources(await read("operator/leader-election-role.yaml")), ["leases"]);
});

test("the Jobs' ServiceAccount has no token and nothing binds it", async () => {
  const sa = await read("namespace/job-service-account.yaml");
  assert.equal(sa.kind, "ServiceAccount");
  assert.equal(sa.automountServiceAccountToken, false);
  const name = (sa.metadata as { name: string }).name;
  for (const path of ["namespace/role-binding.yaml", "cluster-wide/cluster-role-binding.yaml", "operator/leader-election-role-binding.yaml"]) {
    const subjects = (await read(path)).subjects as Array<{ name: string }>;
    assert.ok(!subjects.some((s) => s.name === name), `${path} binds ${name}`);
  }
});
