/** What the apiserver would refuse in a child, found before the create and named by our field. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ANNOTATIONS_MAX_BYTES,
  checkAnnotations,
  checkJobSettings,
  checkLabels,
  checkResources,
  compareQuantities,
  describeChildProblems,
  labelValueProblem,
  parseQuantity,
  qualifiedNameProblem,
} from "../../../src/controllers/shared/child-validation.ts";

describe("label keys and values (Kubernetes' rules)", () => {
  const keys: Array<[key: string, ok: boolean]> = [
    ["team", true],
    ["app.kubernetes.io/name", true],
    ["example.com/a_b-c.d", true],
    ["A1", true],
    ["x".repeat(63), true],
    ["x".repeat(64), false],
    [`${"a".repeat(253)}/x`, true],
    [`${"a".repeat(254)}/x`, false],
    ["Example.com/x", false],
    ["/x", false],
    ["example.com/", false],
    ["a/b/c", false],
    ["-team", false],
    ["team-", false],
    ["te am", false],
    ["", false],
  ];
  for (const [key, ok] of keys) test(`key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…(${key.length})` : key)} ${ok ? "is" : "is not"} a qualified name`, () => assert.equal(qualifiedNameProblem(key) === undefined, ok, qualifiedNameProblem(key) ?? "a qualified name"));

  const values: Array<[value: string, ok: boolean]> = [
    ["", true],
    ["search", true],
    ["v1.2_3-x", true],
    ["x".repeat(63), true],
    ["x".repeat(64), false],
    ["a/b", false],
    [".hidden", false],
    ["end.", false],
  ];
  for (const [value, ok] of values) test(`value ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value)} ${ok ? "is" : "is not"} a label value`, () => assert.equal(labelValueProblem(value) === undefined, ok));

  test("checkLabels names our field and the key, and says what is wrong", () => {
    const long = "x".repeat(64);
    assert.deepEqual(checkLabels({ team: "search", tier: long }, "spec.backupLabels"), [{ field: 'spec.backupLabels["tier"]', message: "a label value must be no more than 63 characters (it has 64)" }]);
    assert.deepEqual(checkLabels({ [long]: "v" }, "spec.job.podLabels").map((p) => p.field), [`spec.job.podLabels["${long}"]`]);
    assert.match(checkLabels({ [long]: "v" }, "spec.job.podLabels")[0]!.message, /^invalid key: the name part must be no more than 63 characters \(it has 64\)$/);
    assert.deepEqual(checkLabels(undefined, "spec.backupLabels"), []);
    assert.deepEqual(checkLabels({ n: 5 as unknown as string }, "spec.x"), [{ field: 'spec.x["n"]', message: "the value must be a string" }]);
  });
});

describe("annotations", () => {
  test("keys are qualified names (case aside), values anything, 256 KiB in all", () => {
    assert.deepEqual(checkAnnotations({ "Example.COM/Note": "any text / at all", "prometheus.io/scrape": "true" }, "spec.job.podAnnotations"), []);
    assert.deepEqual(checkAnnotations({ "a b": "x" }, "spec.job.podAnnotations").map((p) => p.field), ['spec.job.podAnnotations["a b"]']);
    const big = checkAnnotations({ big: "x".repeat(ANNOTATIONS_MAX_BYTES) }, "spec.job.podAnnotations");
    assert.deepEqual(big.map((p) => p.field), ["spec.job.podAnnotations"]);
    assert.match(big[0]!.message, /no more than 262144 bytes in all .*not 262147/);
  });
});

describe("quantities", () => {
  const parsed: Array<[text: string, ok: boolean]> = [
    ["1", true],
    ["500m", true],
    ["1.5Gi", true],
    ["2e3", true],
    ["1E-3", true],
    [".5", true],
    ["128974848", true],
    ["-1", true],
    ["1GB", false],
    ["1 Gi", false],
    ["Gi", false],
    ["", false],
    ["1.2.3", false],
    ["1e", false],
  ];
  for (const [text, ok] of parsed) test(`${JSON.stringify(text)} ${ok ? "is" : "is not"} a quantity`, () => assert.equal(parseQuantity(text) !== undefined, ok));

  const order: Array<[a: string, b: string, cmp: number]> = [
    ["1Gi", "1024Mi", 0],
    ["1G", "1Gi", -1],
    ["500m", "0.5", 0],
    ["1", "999m", 1],
    ["2e3", "2k", 0],
    ["1Ki", "1k", 1],
    ["128974848", "123Mi", 0],
    ["128974849", "123Mi", 1],
    ["0.1", "100m", 0],
    ["1E-3", "1m", 0],
    ["1.5Gi", "1536Mi", 0],
  ];
  for (const [a, b, cmp] of order) test(`${a} ${cmp < 0 ? "<" : cmp > 0 ? ">" : "="} ${b}`, () => assert.equal(compareQuantities(parseQuantity(a)!, parseQuantity(b)!), cmp));
});

describe("checkResources", () => {
  const cases: Array<[name: string, resources: Parameters<typeof checkResources>[0], fields: string[]]> = [
    ["limit above request", { limits: { memory: "1Gi", cpu: "1" }, requests: { memory: "512Mi", cpu: "500m" } }, []],
    ["limit equal to request, written differently", { limits: { memory: "1Gi" }, requests: { memory: "1024Mi" } }, []],
    ["only limits (requests default to them)", { limits: { memory: "1Gi" } }, []],
    ["only requests", { requests: { memory: "1Gi" } }, []],
    ["memory limit below request", { limits: { memory: "256Mi" }, requests: { memory: "1Gi" } }, ["spec.job.resources.limits.memory"]],
    ["cpu limit below request, as a number", { limits: { cpu: 0.5 }, requests: { cpu: "1" } }, ["spec.job.resources.limits.cpu"]],
    ["an unparseable quantity", { requests: { memory: "1GB" } }, ["spec.job.resources.requests.memory"]],
    ["a negative quantity", { limits: { cpu: "-1" } }, ["spec.job.resources.limits.cpu"]],
    ["a bad resource name", { limits: { "my resource": "1" } }, ["spec.job.resources.limits.my resource"]],
  ];
  for (const [name, resources, fields] of cases) test(name, () => assert.deepEqual(checkResources(resources, "spec.job.resources").map((p) => p.field), fields));

  test("the message says both values and what to write", () => {
    assert.equal(
      describeChildProblems(checkResources({ limits: { memory: "256Mi" }, requests: { memory: "1Gi" } }, "spec.job.resources")),
      "spec.job.resources.limits.memory: the limit 256Mi is below the request 1Gi (spec.job.resources.requests.memory); a limit must be at least its request",
    );
    assert.match(checkResources({ requests: { memory: "1GB" } }, "spec.job.resources")[0]!.message, /^"1GB" is not a quantity; write e\.g\. 500m, 256Mi or 2$/);
  });
});

describe("checkJobSettings", () => {
  test("every part of spec.job the pod carries, each under its own field", () => {
    const long = "x".repeat(64);
    const problems = checkJobSettings({ resources: { limits: { memory: "1Mi" }, requests: { memory: "2Mi" } }, podLabels: { team: long }, podAnnotations: { "bad key!": "x" }, nodeSelector: { "disk type": "ssd" } });
    assert.deepEqual(problems.map((p) => p.field), ["spec.job.resources.limits.memory", 'spec.job.podLabels["team"]', 'spec.job.podAnnotations["bad key!"]', 'spec.job.nodeSelector["disk type"]']);
    assert.deepEqual(checkJobSettings(undefined), []);
    assert.deepEqual(checkJobSettings({ podLabels: { team: "search" }, resources: { limits: { memory: "1Gi" } } }), []);
  });
});
