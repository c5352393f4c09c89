import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jobOutcome, parseResultMessage, type JobOutcome } from "../../../src/controllers/backup/job-result.ts";
import type { ContainerStateTerminated, JobObject, PodObject } from "../../../src/controllers/shared/job-objects.ts";
import type { BackupJobResult } from "../../../src/jobs/backup/contract.ts";
import { MAX_TEXT, type ParsedMessage as Parsed } from "../../../src/jobs/protocol/termination-message.ts";

type ParsedMessage = Parsed<BackupJobResult>;

const SUCCESS = {
  ok: true,
  backupId: "20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d",
  startTime: "2026-01-15T02:00:05Z",
  completionTime: "2026-01-15T02:01:05Z",
  sizeBytes: 1234,
  collections: [{ name: "policies", manifestKey: "p/m.json", pointsCount: 10, sizeBytes: 1234, files: [{ peerId: "1", key: "p/peer-1.snapshot", size: 1234, sha256: "a".repeat(64) }] }],
};
const FAILURE = { ok: false, reason: "QdrantError", message: "No space left on device", retryable: true };

describe("parseResultMessage", () => {
  const cases: Array<[string, string | undefined, ParsedMessage["kind"], (p: ParsedMessage) => void]> = [
    ["no message", undefined, "none", () => {}],
    ["blank message", "  \n", "none", () => {}],
    ["a success", JSON.stringify(SUCCESS), "result", (p) => assert.deepEqual(p.kind === "result" && p.result, SUCCESS)],
    ["a failure", `${JSON.stringify(FAILURE)}\n`, "result", (p) => assert.deepEqual(p.kind === "result" && p.result, FAILURE)],
    ["a result after log lines (logs fallback)", `starting\nuploading\n${JSON.stringify(FAILURE)}`, "result", (p) => assert.equal(p.kind === "result" && !p.result.ok && p.result.message, "No space left on device")],
    ["JSON cut at 4 KiB", JSON.stringify(SUCCESS).slice(0, 60), "text", (p) => assert.ok(p.kind === "text" && p.text.startsWith('{"ok":true'))],
    ["a crash's stack", "TypeError: x is not a function\n    at main (main.ts:1:1)", "text", (p) => assert.match(p.kind === "text" ? p.text : "", /^TypeError/)],
    ["JSON that is not a result", '{"hello":"world"}', "text", () => {}],
    ["a success missing its times", JSON.stringify({ ok: true, backupId: "x" }), "text", () => {}],
    ["a failure whose reason is not CamelCase", JSON.stringify({ ok: false, reason: "no space!", message: "m" }), "result", (p) => assert.equal(p.kind === "result" && !p.result.ok && p.result.reason, "BackupFailed")],
    ["a long text keeps its end", "x".repeat(5000) + "THE END", "text", (p) => {
      assert.ok(p.kind === "text" && p.text.length === MAX_TEXT && p.text.endsWith("THE END") && p.text.startsWith("…"));
    }],
    ["files with a bad checksum are dropped, the collection kept", JSON.stringify({ ...SUCCESS, collections: [{ ...SUCCESS.collections[0], files: [{ peerId: "1", key: "k", size: 1, sha256: "nothex" }] }] }), "result", (p) => {
      assert.deepEqual(p.kind === "result" && p.result.ok && p.result.collections?.[0]?.files, []);
    }],
    ["a FullStorage success keeps its manifest, files and collections; malformed entries are dropped", JSON.stringify({
      ok: true, backupId: "x", startTime: "s", completionTime: "c", sizeBytes: 3, manifestKey: "k/manifest.json",
      files: [{ peerId: "1", key: "k/peer-1.snapshot", size: 3, sha256: "b".repeat(64) }, { peerId: "2", key: "k/peer-2.snapshot", size: -1, sha256: "b".repeat(64) }],
      storage: { collections: [{ name: "docs", pointsCount: 2, aliases: ["live", 7] }, { pointsCount: 1 }] },
    }), "result", (p) => {
      assert.ok(p.kind === "result" && p.result.ok);
      assert.equal(p.result.manifestKey, "k/manifest.json");
      assert.deepEqual(p.result.files, [{ peerId: "1", key: "k/peer-1.snapshot", size: 3, sha256: "b".repeat(64) }]);
      assert.deepEqual(p.result.storage, { collections: [{ name: "docs", pointsCount: 2, aliases: ["live"] }] });
    }],
  ];
  for (const [what, message, kind, check] of cases) {
    test(what, () => {
      const parsed = parseResultMessage(message);
      assert.equal(parsed.kind, kind);
      check(parsed);
    });
  }
});

function job(conditions: Array<{ type: string; reason?: string; message?: string }>, status: Record<string, unknown> = {}): JobObject {
  return {
    metadata: { name: "backup-x", uid: "job-uid" },
    status: { startTime: "2026-01-15T02:00:01Z", ...status, conditions: conditions.map((c) => ({ status: "True", lastTransitionTime: "2026-01-15T02:02:00Z", ...c })) },
  };
}
function pod(name: string, terminated: ContainerStateTerminated | undefined, container = "backup"): PodObject {
  return { metadata: { name, creationTimestamp: "2026-01-15T02:00:01Z" }, status: { containerStatuses: [{ name: container, state: terminated ? { terminated } : {} }] } };
}

describe("jobOutcome", () => {
  const cases: Array<[string, JobObject, PodObject[], JobOutcome]> = [
    ["a Job without a terminal condition is running", job([{ type: "SuccessCriteriaMet" }]), [], { phase: "Running", startTime: "2026-01-15T02:00:01Z" }],
    ["not even started", { metadata: { name: "j" } }, [], { phase: "Running" }],
    [
      "Complete: the result of the pod that exited 0",
      job([{ type: "Complete" }], { completionTime: "2026-01-15T02:01:10Z" }),
      [pod("p1", { exitCode: 1, message: JSON.stringify(FAILURE), finishedAt: "2026-01-15T02:00:30Z" }), pod("p2", { exitCode: 0, message: JSON.stringify(SUCCESS) })],
      { phase: "Succeeded", result: SUCCESS as never, startTime: "2026-01-15T02:00:01Z", completionTime: "2026-01-15T02:01:10Z" },
    ],
    [
      "Failed: the last attempt's failure, in Qdrant's words",
      job([{ type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }]),
      [
        pod("p2", { exitCode: 1, message: JSON.stringify({ ...FAILURE, message: "second" }), finishedAt: "2026-01-15T02:01:00Z" }),
        pod("p1", { exitCode: 1, message: JSON.stringify(FAILURE), finishedAt: "2026-01-15T02:00:30Z" }),
        pod("p3", { exitCode: 1, message: JSON.stringify({ ...FAILURE, message: "No space left on device (last)" }), finishedAt: "2026-01-15T02:01:30Z" }),
      ],
      { phase: "Failed", reason: "QdrantError", message: "No space left on device (last)", retryable: true, startTime: "2026-01-15T02:00:01Z", completionTime: "2026-01-15T02:02:00Z" },
    ],
    [
      "Failed by podFailurePolicy with a non-JSON message: the Job's reason and the text",
      job([{ type: "Failed", reason: "PodFailurePolicy", message: "Container backup for pod ns/p exited with code 2 matching FailJob rule at index 0" }]),
      [pod("p1", { exitCode: 2, message: "Error: BACKUP_PLAN is not set" })],
      {
        phase: "Failed",
        reason: "PodFailurePolicy",
        message: "Container backup for pod ns/p exited with code 2 matching FailJob rule at index 0; the last attempt exited 2: Error: BACKUP_PLAN is not set",
        startTime: "2026-01-15T02:00:01Z",
        completionTime: "2026-01-15T02:02:00Z",
      },
    ],
    [
      "Failed past its deadline with the pod killed silently",
      job([{ type: "Failed", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline" }]),
      [pod("p1", { exitCode: 137, reason: "Error" })],
      { phase: "Failed", reason: "DeadlineExceeded", message: "Job was active longer than specified deadline; the last attempt exited 137 (Error)", startTime: "2026-01-15T02:00:01Z", completionTime: "2026-01-15T02:02:00Z" },
    ],
    [
      "Failed with no pod left",
      job([{ type: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }]),
      [],
      { phase: "Failed", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", startTime: "2026-01-15T02:00:01Z", completionTime: "2026-01-15T02:02:00Z" },
    ],
  ];
  for (const [what, j, pods, want] of cases) test(what, () => assert.deepEqual(jobOutcome(j, pods), want));

  test("Complete with an unreadable message still succeeds, saying why there are no details", () => {
    const out = jobOutcome(job([{ type: "Complete" }]), [pod("p", { exitCode: 0, message: JSON.stringify(SUCCESS).slice(0, 100) })]);
    assert.equal(out.phase, "Succeeded");
    assert.ok(out.phase === "Succeeded" && out.result === undefined);
    assert.match(out.phase === "Succeeded" ? out.note! : "", /termination message is not a result: \{"ok":true/);
  });

  test("only the backup container counts", () => {
    const out = jobOutcome(job([{ type: "Failed", reason: "BackoffLimitExceeded", message: "limit" }]), [pod("p", { exitCode: 1, message: JSON.stringify(FAILURE) }, "sidecar")]);
    assert.deepEqual(out.phase === "Failed" && [out.reason, out.message], ["BackoffLimitExceeded", "limit"]);
  });
});
