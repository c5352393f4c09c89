/**
 * Every container process the agent starts is recorded in `<stateDir>/processes/` until it exits, with
 * its start time from /proc so a recycled pid is never mistaken for it. A new agent incarnation kills
 * whatever a previous one left running before it starts its own work: those processes' output pipes led
 * to a dead agent, so they cannot be adopted honestly; their pods then report the containers as lost
 * (see README, "Agent restarts").
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "./logger.ts";

export interface ProcessRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: the process's start time in clock ticks since boot. */
  startTicks: string;
  podUID: string;
  pod: string;
  container: string;
}

/** Reads a process's start time; undefined if it is gone. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

export function killProcessGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

export class ProcessRecords {
  private readonly dir: string;
  private readonly pidsFile: string | undefined;

  constructor(stateDir: string, pidsFile?: string) {
    this.dir = join(stateDir, "processes");
    this.pidsFile = pidsFile;
    mkdirSync(this.dir, { recursive: true });
  }

  private file(pid: number): string {
    return join(this.dir, `${pid}.json`);
  }

  add(record: ProcessRecord): void {
    writeFileSync(this.file(record.pid), JSON.stringify(record));
    // The environment's crash cleanup kills every process group listed there.
    if (this.pidsFile) appendFileSync(this.pidsFile, `${record.pid}\n`);
  }

  remove(pid: number): void {
    rmSync(this.file(pid), { force: true });
  }

  /**
   * Kills the process groups a previous incarnation recorded (SIGTERM, then SIGKILL after `graceMs`)
   * and forgets them. Returns the records of processes that were still running.
   */
  async killLeftovers(log: Logger, graceMs = 5000): Promise<ProcessRecord[]> {
    const alive: ProcessRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      let record: ProcessRecord;
      try {
        record = JSON.parse(readFileSync(path, "utf8")) as ProcessRecord;
      } catch {
        rmSync(path, { force: true });
        continue;
      }
      if (processStartTicks(record.pid) === record.startTicks) {
        log.info({ pid: record.pid, pod: record.pod, container: record.container }, "Killing container left running by a previous node agent");
        killProcessGroup(record.pid, "SIGTERM");
        alive.push(record);
      } else {
        rmSync(path, { force: true });
      }
    }
    const deadline = Date.now() + graceMs;
    for (const record of alive) {
      // Not our children: there is no exit event to wait on, so poll /proc until the grace runs out.
      while (processStartTicks(record.pid) === record.startTicks && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      killProcessGroup(record.pid, "SIGKILL");
      this.remove(record.pid);
    }
    return alive;
  }
}
