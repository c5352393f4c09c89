/** One source of truth: crds/*.yaml is what src/api generates, and ajv reads the same schemas. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { renderCrds, staleCrds } from "../../src/api/generate-crds.ts";
import { API_DOCS, renderApiDocs } from "../../src/api/generate-docs.ts";
import { KINDS } from "../../src/api/kinds.ts";
import { describeProblems, validateSpec } from "../../src/api/validate.ts";

test("the committed CRDs are what `npm run generate:crds` writes", async () => {
  assert.equal(renderCrds().size, KINDS.length);
  assert.deepEqual(await staleCrds(), [], "crds/ is stale: run `npm run generate:crds` and commit the result");
});

test("docs/api.md is what `npm run generate:docs` writes, and lists every kind's spec and status fields", () => {
  const docs = renderApiDocs();
  assert.equal(readFileSync(API_DOCS, "utf8"), docs, "docs/api.md is stale: run `npm run generate:docs` and commit the result");
  for (const k of KINDS) assert.match(docs, new RegExp(`^## ${k.kind}$`, "m"));
  // A field from deep in a schema, with its bounds and rule, as the CRD has them.
  assert.match(docs, /^\| `spec\.compression\.level` \| integer \| 1–22 \|/m);
  assert.match(docs, /^\| `spec\.objectLock\.retainDays` \| integer \| required; 1–36500 \|/m);
});

test("the controller's validator names the field of a bad spec", () => {
  const cases: Array<[string, unknown, string]> = [
    ["QdrantBackupSchedule", { schedule: "@daily", timeZone: "+01:00", connectionRef: { name: "q" }, locationRef: { name: "s3" } }, "spec.timeZone: must match pattern"],
    ["QdrantBackupSchedule", { schedule: "@daily", connectionRef: { name: "q" } }, "spec.locationRef: is required"],
    ["QdrantBackupSchedule", { schedule: "@daily", connectionRef: { name: "q" }, locationRef: { name: "s3" }, retention: { keepLast: -2 } }, "spec.retention.keepLast: must be >= 0"],
    ["QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { names: ["ok", "a|b"] } }, "spec.collections.names[1]: must match pattern"],
    // Stored before the schema refused dot-segment names: the controller answers InvalidSpec, naming the field.
    ["QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { names: ["ok", ".."] } }, "spec.collections.names[1]: must match pattern"],
    ["QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { names: ["."] } }, "spec.collections.names[0]: must match pattern"],
    ["QdrantRestore", { source: { latest: { locationRef: { name: "s3" }, collection: ".." } }, target: { connectionRef: { name: "q" } } }, "spec.source.latest.collection: must match pattern"],
    ["QdrantRestore", { source: { backupRef: { name: "b" } }, target: { connectionRef: { name: "q" }, alias: ".." } }, "spec.target.alias: must match pattern"],
    ["CollectionRollout", { connectionRef: { name: "q" }, alias: "..", collection: "c", source: { external: {} } }, "spec.alias: must match pattern"],
    ["QdrantRestore", { source: { backupRef: { name: "b" } }, target: { connectionRef: { name: "q" } }, policy: "Sometimes" }, "spec.policy: must be equal to one of the allowed values"],
    ["QdrantRestore", null, "spec: spec is required"],
    // A pattern the backup Job could not compile fails before any Job exists, naming the field.
    ["QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { pattern: "(" } }, "spec.collections.pattern: is not a regular expression"],
    ["QdrantBackupSchedule", { schedule: "@daily", connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { pattern: "docs_[" } }, "spec.collections.pattern: is not a regular expression"],
  ];
  for (const [kind, spec, expected] of cases) {
    const problems = validateSpec(kind, spec);
    assert.ok(describeProblems(problems).includes(expected), `${kind}: ${describeProblems(problems)}`);
  }
  assert.deepEqual(validateSpec("QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { all: true } }), []);
  // Dots are fine anywhere else in a name, and a run of three or more is no dot-segment.
  assert.deepEqual(validateSpec("QdrantBackup", { connectionRef: { name: "q" }, locationRef: { name: "s3" }, collections: { names: ["...", ".hidden", "a.b", "v1.", "é x"] } }), []);
});
