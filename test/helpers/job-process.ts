/**
 * A Job command (`node src/main.ts job <kind>`) run as a real child process, as the Job tests run it (so
 * SIGKILL and SIGTERM are the real thing): the plan (or any text) in the kind's plan variable, a result
 * file of its own, stdout and stderr collected, and the result file read, parsed by the caller's reader and
 * removed once the process is gone. The harnesses in test/jobs/ add their kind's environment and result type.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKUP_ENV } from "../../src/jobs/backup/contract.ts";
import { COPY_ENV } from "../../src/jobs/copy/contract.ts";
import { JOB_ENV } from "../../src/jobs/protocol/env.ts";
import { RESTORE_ENV } from "../../src/jobs/restore/contract.ts";

const NODE = "node_modules/.bin/node";

const PLAN_ENV = { backup: BACKUP_ENV.plan, restore: RESTORE_ENV.plan, copy: COPY_ENV.plan } as const;

export type JobKind = keyof typeof PLAN_ENV;

export interface JobProcessRun<R> {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The result file parsed by the caller's reader; undefined when nothing was written. */
  result: R | undefined;
  resultText: string;
  stdout: string;
  stderr: string;
}

export interface StartedJobProcess<R> {
  child: ChildProcess;
  /** The result file as it is now ("" before anything was written). */
  resultNow: () => string;
  /** Resolves once the process has exited. */
  wait: () => Promise<JobProcessRun<R>>;
}

/**
 * Starts `job <kind>` with `plan` (JSON-encoded unless it is already text) in the kind's plan variable
 * and `env` (entries without a value left out) besides PATH and RESULT_FILE; nothing else of this
 * process's environment. `read` turns the result file's text into the result.
 */
export function spawnJob<R>(kind: JobKind, plan: object | string, env: Record<string, string | undefined>, read: (text: string) => R): StartedJobProcess<R> {
  const dir = mkdtempSync(join(tmpdir(), `${kind}-job-`));
  const resultFile = join(dir, "termination-log");
  const given = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const child = spawn(NODE, ["src/main.ts", "job", kind], {
    env: { PATH: process.env.PATH, [PLAN_ENV[kind]]: typeof plan === "string" ? plan : JSON.stringify(plan), [JOB_ENV.resultFile]: resultFile, ...given },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const resultNow = () => {
    try {
      return readFileSync(resultFile, "utf8");
    } catch {
      return ""; // killed before it wrote anything
    }
  };
  const exited = new Promise<JobProcessRun<R>>((resolve) => {
    child.on("exit", (code, signal) => {
      const resultText = resultNow();
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal, resultText, result: resultText ? read(resultText) : undefined, stdout, stderr });
    });
  });
  return { child, resultNow, wait: () => exited };
}

/** A run's exit, result and the tail of its output, for assert messages. */
export function describeRun(run: JobProcessRun<unknown>): string {
  return `exit ${run.code} ${run.signal ?? ""}\nresult: ${run.resultText}\n${run.stdout.slice(-4000)}${run.stderr.slice(-2000)}`;
}
