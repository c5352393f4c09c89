/** The one outcome reader, for a kind of Job other than backups: its container, its result schema. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Type } from "@sinclair/typebox";
import type { JobObject, PodObject } from "../../../src/controllers/shared/job-objects.ts";
import { readJobOutcome } from "../../../src/controllers/shared/job-outcome.ts";
import { resultReader } from "../../../src/jobs/protocol/termination-message.ts";

const CopySuccess = Type.Object({ ok: Type.Literal(true), copied: Type.Integer({ minimum: 0 }) });
const HOW = { container: "copy", results: resultReader(CopySuccess, "CopyFailed"), authority: "the target collection's points" };

function job(type: string | undefined, reason?: string): JobObject {
  return { metadata: { name: "copy-x" }, status: { startTime: "2026-01-15T02:00:01Z", conditions: type ? [{ type, status: "True", lastTransitionTime: "2026-01-15T02:02:00Z", ...(reason ? { reason } : {}) }] : [] } };
}
function pod(container: string, exitCode: number, message: string, finishedAt = "2026-01-15T02:01:00Z"): PodObject {
  return { metadata: { name: `p-${finishedAt}` }, status: { containerStatuses: [{ name: container, state: { terminated: { exitCode, message, finishedAt } } }] } };
}

describe("readJobOutcome, another kind of Job", () => {
  test("Succeeded with the result its schema reads", () => {
    assert.deepEqual(readJobOutcome(job("Complete"), [pod("copy", 0, '{"ok":true,"copied":7}')], HOW), { phase: "Succeeded", result: { ok: true, copied: 7 }, startTime: "2026-01-15T02:00:01Z", completionTime: "2026-01-15T02:02:00Z" });
  });

  test("a result its schema refuses is not a result; the note names the kind's authority", () => {
    const out = readJobOutcome(job("Complete"), [pod("copy", 0, '{"ok":true,"copied":-1}')], HOW);
    assert.ok(out.phase === "Succeeded" && out.result === undefined);
    assert.match(out.note ?? "", /not a result: \{"ok":true,"copied":-1\}; the target collection's points are authoritative/);
  });

  test("Failed: the last attempt's failure, its reason replaced by the kind's when it is not CamelCase", () => {
    const out = readJobOutcome(
      job("Failed", "BackoffLimitExceeded"),
      [pod("copy", 1, '{"ok":false,"reason":"QdrantError","message":"first"}', "2026-01-15T02:00:30Z"), pod("copy", 1, '{"ok":false,"reason":"not camel","message":"last"}')],
      HOW,
    );
    assert.deepEqual(out.phase === "Failed" && [out.reason, out.message], ["CopyFailed", "last"]);
  });

  test("Failed: the failure's fields of the kind's own come as detail (a restore's claim); none, no detail", () => {
    const claimed = readJobOutcome(job("Failed", "BackoffLimitExceeded"), [pod("copy", 1, '{"ok":false,"reason":"Interrupted","message":"killed","retryable":true,"claim":{"collection":"c","attempt":2}}')], HOW);
    assert.deepEqual(claimed.phase === "Failed" && [claimed.reason, claimed.detail], ["Interrupted", { claim: { collection: "c", attempt: 2 } }]);
    const plain = readJobOutcome(job("Failed", "BackoffLimitExceeded"), [pod("copy", 1, '{"ok":false,"reason":"QdrantError","message":"m","retryable":true}')], HOW);
    assert.ok(plain.phase === "Failed" && !("detail" in plain));
  });

  test("only its own container counts", () => {
    const out = readJobOutcome(job("Failed", "BackoffLimitExceeded"), [pod("backup", 1, '{"ok":false,"reason":"QdrantError","message":"not ours"}')], HOW);
    assert.deepEqual(out.phase === "Failed" && out.reason, "BackoffLimitExceeded");
    assert.deepEqual(readJobOutcome(job(undefined), [], HOW), { phase: "Running", startTime: "2026-01-15T02:00:01Z" });
  });
});
