/** A 422 on a child, told in our fields' words; anything else is not ours to explain. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ApiError } from "../../../src/runtime/errors.ts";
import { describeInvalidChild, JOB_FIELDS, mapChildField, type FieldMap } from "../../../src/controllers/shared/invalid-child.ts";
import { BACKUP_FIELDS } from "../../../src/controllers/backup-schedule/plan.ts";

/** A Status as the apiserver sends it for an invalid object. */
function invalid(kind: string, name: string, causes: Array<{ field?: string; message: string }>, message = `${kind} "${name}" is invalid`): ApiError {
  return new ApiError("POST", `/apis/x/${kind}`, 422, { kind: "Status", apiVersion: "v1", status: "Failure", message, reason: "Invalid", details: { name, kind, causes: causes.map((c) => ({ reason: "FieldValueInvalid", ...c })) }, code: 422 });
}

describe("mapChildField", () => {
  const cases: Array<[field: string, map: FieldMap, want: string | undefined]> = [
    ["spec.template.metadata.labels", JOB_FIELDS, "spec.job.podLabels"],
    ["spec.template.spec.containers[0].resources.requests", JOB_FIELDS, "spec.job.resources.requests"],
    ["spec.template.spec.containers[0].resources.limits[memory]", JOB_FIELDS, "spec.job.resources.limits[memory]"],
    ["spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", JOB_FIELDS, "spec.job.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"],
    ["spec.template.spec.tolerations[0].operator", JOB_FIELDS, "spec.job.tolerations[0].operator"],
    ["spec.template.spec.containers[0].env[0].value", JOB_FIELDS, undefined],
    ["spec.template.spec.affinityX", JOB_FIELDS, undefined],
    ["metadata.labels", BACKUP_FIELDS, "spec.backupLabels"],
    ["spec.job.resources", BACKUP_FIELDS, "spec.job.resources"],
    ["metadata.name", BACKUP_FIELDS, undefined],
  ];
  for (const [field, map, want] of cases) test(`${field} → ${want ?? "(not ours)"}`, () => assert.equal(mapChildField(field, map), want));
});

describe("describeInvalidChild", () => {
  test("names our field for each cause the map knows, and says who refused what", () => {
    const err = invalid("Job", "backup-nightly", [
      { field: "spec.template.spec.containers[0].resources.requests", message: 'Invalid value: "1Gi": must be less than or equal to memory limit of 256Mi' },
      { field: "spec.template.metadata.labels", message: 'Invalid value: "xxx": must be no more than 63 characters' },
    ]);
    assert.equal(
      describeInvalidChild(err, "Job backup-nightly", JOB_FIELDS),
      'spec.job.resources.requests: Invalid value: "1Gi": must be less than or equal to memory limit of 256Mi; spec.job.podLabels: Invalid value: "xxx": must be no more than 63 characters (the apiserver refused Job backup-nightly)',
    );
  });

  test("a cause no entry maps keeps the child's field; one without a field, its words", () => {
    const err = invalid("Job", "backup-x", [{ field: "spec.template.spec.containers[0].env[0].value", message: "Invalid value: too long" }, { message: "something else" }]);
    assert.equal(describeInvalidChild(err, "Job backup-x", JOB_FIELDS), "spec.template.spec.containers[0].env[0].value of Job backup-x: Invalid value: too long; something else (the apiserver refused Job backup-x)");
  });

  test("no causes: the apiserver's message, whole", () => {
    const err = invalid("QdrantBackup", "n-1", [], 'QdrantBackup.qdrant-operator.dev "n-1" is invalid: metadata.labels: Invalid value');
    assert.equal(describeInvalidChild(err, "QdrantBackup n-1", BACKUP_FIELDS), 'the apiserver refused QdrantBackup n-1: QdrantBackup.qdrant-operator.dev "n-1" is invalid: metadata.labels: Invalid value');
  });

  test("the same cause twice is said once", () => {
    const cause = { field: "metadata.labels", message: 'Invalid value: "x": must be no more than 63 characters' };
    assert.equal(describeInvalidChild(invalid("QdrantBackup", "n", [cause, cause]), "QdrantBackup n", BACKUP_FIELDS), 'spec.backupLabels: Invalid value: "x": must be no more than 63 characters (the apiserver refused QdrantBackup n)');
  });

  test("not a 422, or a 422 of another reason: not ours to explain (undefined)", () => {
    assert.equal(describeInvalidChild(new ApiError("POST", "/x", 409, { reason: "AlreadyExists" }), "Job j", JOB_FIELDS), undefined);
    assert.equal(describeInvalidChild(new ApiError("POST", "/x", 500, { reason: "InternalError" }), "Job j", JOB_FIELDS), undefined);
    assert.equal(describeInvalidChild(new ApiError("POST", "/x", 422, { reason: "Other" }), "Job j", JOB_FIELDS), undefined);
    assert.equal(describeInvalidChild(new Error("fetch failed"), "Job j", JOB_FIELDS), undefined);
  });

  test("a body the client left as a string is read too", () => {
    const err = { code: 422, body: JSON.stringify({ reason: "Invalid", message: "m", details: { causes: [{ field: "spec.template.spec.nodeSelector", message: "bad" }] } }) };
    assert.equal(describeInvalidChild(err, "Job j", JOB_FIELDS), "spec.job.nodeSelector: bad (the apiserver refused Job j)");
  });
});
