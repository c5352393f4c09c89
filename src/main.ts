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
  job <name> …      work done inside the operator's Jobs (not built yet)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "manager":
      return (await import("./manager/run.ts")).runManager(rest);
    case "version":
      console.log(`${OPERATOR_NAME} ${OPERATOR_VERSION}`);
      return 0;
    case "job":
      console.error(`${OPERATOR_NAME} job: no job commands are built yet`);
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
