#!/usr/bin/env node
/**
 * The operator's single entry point: `manager` runs the controllers, `job …` runs the work a Job's pod
 * does. Both arrive with later issues; until then the CLI only says what it is.
 */
const USAGE = `usage: qdrant-operator <command>

commands:
  version   print the version
(manager and job commands are not built yet)`;

const [command] = process.argv.slice(2);
switch (command) {
  case "version":
    console.log("qdrant-operator 0.1.0");
    break;
  default:
    console.error(USAGE);
    process.exitCode = command === undefined || command === "help" || command === "--help" ? 0 : 2;
}
