/**
 * One container instance as a process: the launch script runs under `unshare --mount --uts` in a process
 * group of its own (so the whole tree can be signalled), stdout/stderr go to the CRI log, and the exit
 * status becomes the container's exit code (128+signal when killed). When the main process exits, the
 * rest of its group is killed, as a runtime tears down a container's PID namespace with its init.
 *
 * The container counts as started when the launch script reports, over fd 3, that it is about to exec
 * the command. A SIGTERM asked for before that is held back until then, so a process is never stopped
 * half-way through building its root, and gets the chance to handle the signal as it would in a runtime.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import type { Readable } from "node:stream";
import type { ContainerLogWriter } from "./container-log.ts";
import { TOOLS } from "./launch-script.ts";
import { killProcessGroup, processStartTicks, type ProcessRecord, type ProcessRecords } from "./process-records.ts";

export interface ProcessExit {
  exitCode: number;
  /** The signal number that ended the process, if a signal did. */
  signal?: number;
  finishedAt: Date;
  /** Set when the container never got to run its command (the launch script failed). */
  startError?: string;
}

export interface ContainerProcess {
  pid: number;
  /** Resolves with the time the command was exec'd, or undefined if the launch script ended first. */
  started: Promise<Date | undefined>;
  exited: Promise<ProcessExit>;
  /** Signals the container's whole process group (SIGTERM waits until the command runs). */
  signal(sig: NodeJS.Signals): void;
}

export interface StartParams {
  script: string;
  scriptPath: string;
  errorFile: string;
  log: ContainerLogWriter;
  records: ProcessRecords;
  record: Omit<ProcessRecord, "pid" | "startTicks">;
}

export function startContainerProcess(p: StartParams): ContainerProcess {
  rmSync(p.errorFile, { force: true });
  writeFileSync(p.scriptPath, p.script, { mode: 0o700 });
  const child = spawn(TOOLS.unshare, ["--mount", "--uts", "--propagation", "private", "--", TOOLS.bash, p.scriptPath], {
    env: {},
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${TOOLS.unshare}`);
  const pid = child.pid;
  p.records.add({ ...p.record, pid, startTicks: processStartTicks(pid) ?? "" });
  child.stdout!.on("data", (chunk: Buffer) => p.log.write("stdout", chunk));
  child.stderr!.on("data", (chunk: Buffer) => p.log.write("stderr", chunk));
  const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));

  let startedAt: Date | undefined;
  const readyPipe = child.stdio[3] as Readable;
  const started = new Promise<Date | undefined>((resolve) => {
    readyPipe.on("data", () => {
      startedAt ??= new Date();
      resolve(startedAt);
    });
    // The pipe closes at the exec (after the byte) or when the script dies (without it).
    readyPipe.on("close", () => resolve(startedAt));
    readyPipe.on("error", () => resolve(startedAt));
  });
  let heldTerm = false;
  void started.then((at) => {
    if (at && heldTerm) killProcessGroup(pid, "SIGTERM");
  });

  const exited = new Promise<ProcessExit>((resolve) => {
    child.on("error", (err) => resolve({ exitCode: 128, finishedAt: new Date(), startError: err.message }));
    child.on("exit", (code, sig) => {
      const finishedAt = new Date();
      killProcessGroup(pid, "SIGKILL");
      p.records.remove(pid);
      // Pipes close once every holder is gone; a process that escaped the group could hold them forever.
      const timer = setTimeout(() => {
        for (const s of child.stdio) (s as Readable | null)?.destroy();
      }, 2000);
      void Promise.all([closed, started]).then(async ([, at]) => {
        clearTimeout(timer);
        await p.log.close();
        const signal = sig ? constants.signals[sig] : undefined;
        const result: ProcessExit = { exitCode: code ?? 128 + (signal ?? 0), finishedAt, ...(signal ? { signal } : {}) };
        if (!at && !sig) {
          const detail = existsSync(p.errorFile) ? readFileSync(p.errorFile, "utf8").trim() : "";
          result.startError = detail || `the launch script ended (${code}) before starting the container`;
          result.exitCode = 128;
        }
        rmSync(p.scriptPath, { force: true });
        resolve(result);
      });
    });
  });
  return {
    pid,
    started,
    exited,
    signal(sig) {
      if (sig === "SIGTERM" && !startedAt) heldTerm = true;
      else killProcessGroup(pid, sig);
    },
  };
}
