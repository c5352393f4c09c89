/**
 * Runs one component of the environment as a child process: its own process group (so stopping it takes
 * whatever it forked), output to a log file, SIGTERM then SIGKILL on stop. Every pid is appended to the run
 * directory's `pids` file, so a later run can clean up after a run that was killed before it could.
 */
import { spawn } from "node:child_process";
import { appendFileSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";

export interface ManagedProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with the exit code (or null after a signal) when the process ends. */
  exited: Promise<number | null>;
  /** SIGTERM to the process group, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  name: string;
  command: string;
  args: string[];
  runDir: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function startProcess(opts: StartOptions): ManagedProcess {
  const logPath = join(opts.runDir, "logs", `${opts.name}.log`);
  const fd = openSync(logPath, "a");
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd ?? opts.runDir,
    env: opts.env ?? process.env,
    stdio: ["ignore", fd, fd],
    detached: true,
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${opts.name} (${opts.command})`);
  const pid = child.pid;
  appendFileSync(join(opts.runDir, "pids"), `${pid}\n`);
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => resolve(code));
    child.on("error", () => resolve(-1));
  });
  let done = false;
  void exited.then(() => (done = true));
  return {
    name: opts.name,
    pid,
    logPath,
    exited,
    async stop(graceMs = 5000) {
      if (done) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      // Anything the component forked and left behind in its group goes too.
      killGroup(pid, "SIGKILL");
    },
  };
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/**
 * Polls `probe` until it returns true, failing early if the process exits. Readiness of another process
 * has no event to wait on, so this is the one place that polls; `what` and the log path go into the error.
 */
export async function waitUntilReady(proc: ManagedProcess, what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${proc.name} exited (${exitCode}) before ${what}; see ${proc.logPath}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${proc.name} not ready (${what}) after ${timeoutMs} ms; see ${proc.logPath}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
