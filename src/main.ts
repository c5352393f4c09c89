#!/usr/bin/env node
/**
 * The operator's single entry point (the image's ENTRYPOINT): `manager` runs the controllers; `job …`
 * runs the work of the operator's Jobs (filled in by the backup and restore controllers).
 */
import { OPERATOR_NAME, OPERATOR_VERSION } from "./version.ts";

const USAGE = `usage: ${OPERATOR_NAME} <command>

commands:
  manager [flags]   run the operator (\`manager --help\` lists the flags)
  version           print the version
  job backup        run a backup Job's work (reads BACKUP_PLAN; see src/jobs/backup/contract.ts)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "manager":
      return (await import("./manager/run.ts")).runManager(rest);
    case "version":
      console.log(`${OPERATOR_NAME} ${OPERATOR_VERSION}`);
      return 0;
    case "job":
      if (rest[0] === "backup") return (await import("./jobs/backup/command.ts")).backupCommand();
      console.error(`${OPERATOR_NAME} job: unknown job "${rest[0] ?? ""}" (known: backup)`);
      return 2;
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

process.exitCode = await main(process.argv.slice(2));
