#!/usr/bin/env node
/**
 * The operator's single entry point (the image's ENTRYPOINT): `manager` runs the controllers; `job <kind>`
 * runs the work of one of the operator's Jobs (each kind's command runs inside src/jobs/protocol/'s
 * run-command.ts; a new kind of Job is one more entry in JOB_COMMANDS). Commands are imported only when
 * chosen, so a Job's process loads neither the manager nor the other kinds.
 */
import { OPERATOR_NAME, OPERATOR_VERSION } from "./version.ts";

/** `job <kind>`: what each kind of the operator's Jobs runs; each resolves to the process's exit code. */
const JOB_COMMANDS: Record<string, { summary: string; run: () => Promise<number> }> = {
  backup: { summary: "run a backup Job's work (reads BACKUP_PLAN; see src/jobs/backup/contract.ts)", run: async () => (await import("./jobs/backup/command.ts")).backupCommand() },
  restore: { summary: "run a restore Job's work (reads RESTORE_PLAN; see src/jobs/restore/contract.ts)", run: async () => (await import("./jobs/restore/command.ts")).restoreCommand() },
  copy: { summary: "run a rollout copy Job's work (reads COPY_PLAN; see src/jobs/copy/contract.ts)", run: async () => (await import("./jobs/copy/command.ts")).copyCommand() },
};

const USAGE = `usage: ${OPERATOR_NAME} <command>

commands:
  manager [flags]   run the operator (\`manager --help\` lists the flags)
  version           print the version
${Object.entries(JOB_COMMANDS)
  .map(([kind, c]) => `  ${`job ${kind}`.padEnd(18)}${c.summary}`)
  .join("\n")}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "manager":
      return (await import("./manager/run.ts")).runManager(rest);
    case "version":
      console.log(`${OPERATOR_NAME} ${OPERATOR_VERSION}`);
      return 0;
    case "job":
      return runJob(rest[0]);
    case undefined:
    case "help":
    case "--help":
      console.log(USAGE);
      return 0;
    default:
      console.error(`${OPERATOR_NAME}: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function runJob(kind: string | undefined): Promise<number> {
  const job = kind !== undefined && Object.hasOwn(JOB_COMMANDS, kind) ? JOB_COMMANDS[kind] : undefined;
  if (job) return job.run();
  console.error(`${OPERATOR_NAME} job: unknown job "${kind ?? ""}" (known: ${Object.keys(JOB_COMMANDS).join(", ")})`);
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
