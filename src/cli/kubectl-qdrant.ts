#!/usr/bin/env node
/**
 * `kubectl qdrant`: the kubectl plugin of qdrant-operator (kubectl runs `kubectl-qdrant` from PATH for
 * `kubectl qdrant …`). One small file per command; this one dispatches, prints help, and turns errors
 * into one line on stderr and exit code 1 (2 for a usage error), never a stack trace.
 */
import { parseArgs, UsageError } from "./args.ts";
import { backupNow, HELP as BACKUP_NOW_HELP } from "./backup-now.ts";
import { backupsList, HELP as BACKUPS_LIST_HELP } from "./backups-list.ts";
import { CliError } from "./kube.ts";
import { restore, HELP as RESTORE_HELP } from "./restore.ts";
import { rollout, HELP as ROLLOUT_HELP } from "./rollout.ts";
import { status, HELP as STATUS_HELP } from "./status.ts";

const HELP = `kubectl qdrant: backups, restores and rollouts of qdrant-operator.

Commands:
  backup now <schedule|collection>        create a QdrantBackup now
  backups list [--from-bucket <location>] list backups (from the resources, or the bucket's manifests)
  restore <backup> [--as <name>] [--wait] restore a QdrantBackup
  rollout status|promote|abort|undo <name> inspect and steer a CollectionRollout
  status                                  one screen: schedules, last good backup, restores, rollouts, failures

Global flags: -n/--namespace, --kubeconfig, --context, -o json|yaml, -h/--help.
Run kubectl qdrant <command> --help for a command's flags.
`;

const COMMANDS: Record<string, { help: string; run: (args: ReturnType<typeof parseArgs>) => Promise<void> }> = {
  "backup now": { help: BACKUP_NOW_HELP, run: backupNow },
  "backups list": { help: BACKUPS_LIST_HELP, run: backupsList },
  restore: { help: RESTORE_HELP, run: restore },
  rollout: { help: ROLLOUT_HELP, run: rollout },
  status: { help: STATUS_HELP, run: status },
};

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const help = args.flags.get("help") === "true";
  const key = [args.words.slice(0, 2).join(" "), args.words[0] ?? ""].find((k) => k in COMMANDS);
  if (key === undefined) {
    if (args.words.length === 0 || args.words[0] === "help") {
      process.stdout.write(HELP);
      return;
    }
    const group = args.words[0] === "backup" || args.words[0] === "backups" ? `; did you mean kubectl qdrant ${args.words[0] === "backup" ? "backup now" : "backups list"}?` : "";
    throw new UsageError(`unknown command "${args.words.join(" ")}"${group}; kubectl qdrant --help lists the commands`);
  }
  const command = COMMANDS[key]!;
  if (help) {
    process.stdout.write(command.help);
    return;
  }
  await command.run(args);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
});
