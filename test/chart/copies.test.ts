/**
 * The chart's crds/ and rbac/ and deploy/base/crds/ are what `npm run generate:chart` copies from crds/
 * and deploy/rbac/, and the check notices a stale or orphaned copy.
 */
import assert from "node:assert/strict";
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT, staleCopies, writeCopies } from "../../charts/generate.ts";

test("the committed copies are what `npm run generate:chart` writes", async () => {
  assert.deepEqual(await staleCopies(), { write: [], remove: [] }, "stale copies: run `npm run generate` and commit the result");
});

test("a CRD changed after copying, or a copy of one that is gone, is stale", async () => {
  const root = await mkdtemp(join(tmpdir(), "qdrant-operator-chart-copies-"));
  await cp(join(REPO_ROOT, "crds"), join(root, "crds"), { recursive: true });
  await cp(join(REPO_ROOT, "deploy", "rbac"), join(root, "deploy", "rbac"), { recursive: true });
  assert.equal((await writeCopies(root)).write.length, 16);
  assert.deepEqual(await staleCopies(root), { write: [], remove: [] });
  await writeFile(join(root, "crds", "qdrantbackups.qdrant-operator.dev.yaml"), "# changed\n", { flag: "a" });
  await writeFile(join(root, "deploy", "rbac", "namespace", "role.yaml"), "# changed\n", { flag: "a" });
  await writeFile(join(root, "charts", "qdrant-operator", "crds", "gone.yaml"), "kind: CustomResourceDefinition\n");
  const stale = await staleCopies(root);
  assert.deepEqual(stale.write.map((p) => p.slice(root.length + 1)).sort(), [
    "charts/qdrant-operator/crds/qdrantbackups.qdrant-operator.dev.yaml",
    "charts/qdrant-operator/rbac/role.yaml",
    "deploy/base/crds/qdrantbackups.qdrant-operator.dev.yaml",
  ]);
  assert.deepEqual(stale.remove.map((p) => p.slice(root.length + 1)), ["charts/qdrant-operator/crds/gone.yaml"]);
});
