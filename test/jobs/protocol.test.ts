/**
 * The protocol every Job command shares (src/jobs/protocol/): plans checked against a schema with fields
 * named as specs are, results fitted into and read back from the 4 KiB termination message, exit codes,
 * redaction of the run's secrets, and SIGTERM running the registered undo steps. The process-level parts
 * run a toy kind of Job (protocol-job.ts) as a child process, as a pod would.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Type } from "@sinclair/typebox";
import { isOperatorError } from "../../src/errors.ts";
import { EXIT_CODES, exitCodeFor } from "../../src/jobs/protocol/exit-codes.ts";
import { planChecker } from "../../src/jobs/protocol/plan.ts";
import { checker, DROP_INVALID_ITEMS } from "../../src/jobs/protocol/schema-check.ts";
import { encodeResult, MAX_TERMINATION_MESSAGE_BYTES, resultReader } from "../../src/jobs/protocol/termination-message.ts";
import { REDACTED } from "../../src/runtime/redact.ts";
import { eventually } from "../helpers/eventually.ts";

/** The toy Job's success (protocol-job.ts). */
const ToySuccess = Type.Object({ ok: Type.Literal(true), items: Type.Array(Type.String()) });

const Plan = Type.Object({ version: Type.Literal(2), target: Type.Object({ url: Type.String({ pattern: "^https?://" }), port: Type.Integer({ minimum: 1 }) }), names: Type.Array(Type.String({ minLength: 1 })) });
const plans = planChecker({
  schema: Plan,
  env: "TOY_PLAN",
  code: "BACKUP_PLAN_INVALID",
  more: (p) => (Array.isArray(p.names) && new Set(p.names).size !== p.names.length ? [{ field: "plan.names", message: "must not repeat a name" }] : []),
});

describe("plans", () => {
  const good = { version: 2, target: { url: "http://q:6333", port: 6333 }, names: ["a"] };

  it("reads a good plan", () => {
    assert.deepEqual(plans.read(JSON.stringify(good)), good);
  });

  it("names every problem's field as spec validation does, the version skew first", () => {
    assert.throws(
      () => plans.read(JSON.stringify({ version: 1, target: { url: "q:6333" }, names: ["a", "a"] })),
      (err: unknown) =>
        isOperatorError(err, "BACKUP_PLAN_INVALID") &&
        !err.retryable &&
        err.message.startsWith("TOY_PLAN is invalid: plan.version: must be 2 (got 1): the Job's image and the manager disagree; ") &&
        err.message.includes("plan.target.url: must match pattern") &&
        err.message.includes("plan.target.port: is required") &&
        err.message.endsWith("plan.names: must not repeat a name"),
    );
    assert.throws(() => plans.read(undefined), /TOY_PLAN is not set/);
    assert.throws(() => plans.read("{"), /TOY_PLAN is not JSON/);
    assert.deepEqual(plans.problems([]), [{ field: "plan", message: "must be a JSON object" }]);
  });
});

describe("results", () => {
  it("drops malformed items only where the schema allows it", () => {
    const File = Type.Object({ sha256: Type.String({ pattern: "^[0-9a-f]{64}$" }) });
    const Result = Type.Object({ kept: Type.Array(File, { [DROP_INVALID_ITEMS]: true }), strict: Type.Optional(Type.Array(File)) });
    const check = checker(Result, "result");
    assert.deepEqual(check.read({ kept: [{ sha256: "a".repeat(64) }, { sha256: "nothex" }] }), { kept: [{ sha256: "a".repeat(64) }] });
    assert.equal(check.read({ kept: [], strict: [{ sha256: "nothex" }] }), undefined);
    assert.deepEqual(check.problems({ kept: 1 }), [{ field: "result.kept", message: "must be array" }]);
  });

  it("fit in the termination message, shrinking as the kind says; a failure's message is cut", () => {
    const shrink = function* (r: { ok: true; items: string[] }) {
      const items = [...r.items];
      while (items.length > 0) {
        items.pop();
        yield { ...r, items: [...items] };
      }
    };
    const big = { ok: true as const, items: Array.from({ length: 200 }, (_, i) => `item-${i}-${"x".repeat(40)}`) };
    const text = encodeResult(big, shrink);
    assert.ok(Buffer.byteLength(text) <= MAX_TERMINATION_MESSAGE_BYTES);
    const items = (JSON.parse(text) as { items: string[] }).items;
    assert.ok(items.length > 10 && items.length < 200);
    assert.deepEqual(items, big.items.slice(0, items.length), "cut from the end");
    const failure = encodeResult({ ok: false, reason: "QdrantError", message: "m".repeat(10_000), retryable: true });
    assert.ok(Buffer.byteLength(failure) <= MAX_TERMINATION_MESSAGE_BYTES);
  });

  it("a failure in a script of three bytes a character, or full of what JSON escapes, still fits in bytes and keeps its reason", () => {
    for (const message of ["Ошибка снимка: нет места на устройстве €".repeat(200), '"\\\u0001'.repeat(2000)]) {
      const text = encodeResult({ ok: false, reason: "QdrantError", message, retryable: true });
      assert.ok(Buffer.byteLength(text) <= MAX_TERMINATION_MESSAGE_BYTES, `${Buffer.byteLength(text)} bytes`);
      const read = resultReader(ToySuccess, "ToyFailed").parse(text);
      assert.equal(read.kind === "result" && !read.result.ok ? read.result.reason : read.kind, "QdrantError");
    }
  });

  it("are read back by the kind's schema; exit codes follow retryability", () => {
    const read = resultReader(ToySuccess, "ToyFailed");
    assert.deepEqual(read.parse('log line\n{"ok":true,"items":["a"]}'), { kind: "result", result: { ok: true, items: ["a"] } });
    assert.deepEqual(read.parse('{"ok":false,"reason":"lower case","message":"m"}'), { kind: "result", result: { ok: false, reason: "ToyFailed", message: "m", retryable: false } });
    assert.equal(read.parse('{"ok":true,"items":[1]}').kind, "text");
    assert.deepEqual(read.parse(""), { kind: "none" });
    assert.deepEqual([exitCodeFor({ ok: true }), exitCodeFor({ ok: false, retryable: true }), exitCodeFor({ ok: false, retryable: false })], [EXIT_CODES.SUCCESS, EXIT_CODES.RETRYABLE, EXIT_CODES.PERMANENT]);
  });
});

interface Run {
  code: number | null;
  stdout: string;
  result: string;
}

function startToy(mode: string, env: Record<string, string> = {}): { stop: () => void; stdout: () => string; done: Promise<Run> } {
  const dir = mkdtempSync(join(tmpdir(), "toy-job-"));
  const resultFile = join(dir, "termination-log");
  const child = spawn("node_modules/.bin/node", ["test/jobs/protocol-job.ts"], { env: { PATH: process.env.PATH, TOY_MODE: mode, RESULT_FILE: resultFile, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<Run>((resolve) =>
    child.on("exit", (code) => {
      const result = existsSync(resultFile) ? readFileSync(resultFile, "utf8") : "";
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, result });
    }),
  );
  return { stop: () => child.kill("SIGTERM"), stdout: () => stdout, done };
}

describe("a Job command's process", () => {
  const secret = "toy-secret-value-0123456789";

  it("writes its success, shrunk to fit, and exits 0, with its secret scrubbed from every log line", async () => {
    const run = await startToy("succeed", { TOY_SECRET: secret, TOY_ITEMS: "500" }).done;
    assert.equal(run.code, EXIT_CODES.SUCCESS);
    assert.ok(Buffer.byteLength(run.result) <= MAX_TERMINATION_MESSAGE_BYTES);
    assert.equal(resultReader(ToySuccess, "ToyFailed").parse(run.result).kind, "result");
    assert.ok(!run.stdout.includes(secret), run.stdout);
    assert.ok(run.stdout.includes(`working with ${REDACTED}`), run.stdout);
  });

  it("writes a permanent failure in the failing side's words, scrubbed, and exits 2", async () => {
    const run = await startToy("fail", { TOY_SECRET: secret }).done;
    assert.equal(run.code, EXIT_CODES.PERMANENT);
    assert.deepEqual(JSON.parse(run.result), { ok: false, reason: "CollectionNotFound", message: `collection "docs" does not exist (asked with ${REDACTED})`, retryable: false });
    assert.ok(!run.stdout.includes(secret));
    assert.match(run.stdout, /"msg":"Toy failed: collection \\"docs\\" does not exist/);
  });

  it("on SIGTERM runs the registered undo steps, reports Terminated and exits 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "toy-undo-"));
    const undone = join(dir, "undone");
    const toy = startToy("wait", { TOY_UNDONE: undone });
    await eventually("the toy is waiting", () => (toy.stdout().includes('"waiting"') ? true : undefined), 30_000);
    toy.stop();
    const run = await toy.done;
    assert.equal(run.code, EXIT_CODES.RETRYABLE);
    assert.equal(readFileSync(undone, "utf8"), "undone");
    assert.deepEqual(JSON.parse(run.result), { ok: false, reason: "Terminated", message: "the toy was stopped by SIGTERM (the Job was deleted, hit its deadline, or its node is draining)", retryable: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it("a SIGTERM after the success is written keeps the success and exits 0", async () => {
    const toy = startToy("succeed", { TOY_LINGER: "1" });
    await eventually("the toy wrote its result and lingers", () => (toy.stdout().includes('"lingering"') ? true : undefined), 30_000);
    toy.stop();
    const run = await toy.done;
    assert.equal(run.code, EXIT_CODES.SUCCESS);
    const read = resultReader(ToySuccess, "ToyFailed").parse(run.result);
    assert.ok(read.kind === "result" && read.result.ok, run.result);
  });
});
