/**
 * The plugin's own flag parser. kubectl hands a plugin its arguments untouched and no flags of its own,
 * so `--kubeconfig`, `-n`, `--context` and `-o` are parsed here, the way kubectl spells them
 * (`-n ns`, `-n=ns`, `--namespace ns`, `--namespace=ns`), anywhere on the line.
 */
export interface ParsedArgs {
  /** The words that are not flags: the command path and its operands. */
  words: string[];
  /** Flags by long name; a flag given without a value is "true". */
  flags: Map<string, string>;
  /** A value-taking flag given last or before another flag, reported by checkFlags after unknown flags. */
  missingValue?: string;
}

/** Short spellings of the flags that have one. */
const SHORT: Record<string, string> = { n: "namespace", o: "output", h: "help", A: "all-namespaces" };

/** Flags that take no value: the next word is an operand, not theirs. */
const BOOLEAN = new Set(["help", "wait", "overwrite", "all-namespaces"]);

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const words: string[] = [];
  const flags = new Map<string, string>();
  let missingValue: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    const m = /^(--([a-z][a-z0-9-]*)|-([a-zA-Z]))(=(.*))?$/.exec(arg);
    if (m === null) {
      words.push(arg);
      continue;
    }
    const name = m[2] ?? SHORT[m[3]!];
    if (name === undefined) throw new UsageError(`unknown flag ${arg}`);
    if (m[5] !== undefined) flags.set(name, m[5]);
    else if (BOOLEAN.has(name)) flags.set(name, "true");
    else {
      const value = argv[i + 1];
      // Named by checkFlags, once it knows whether the command has this flag at all (a typo is "unknown").
      if (value === undefined || value.startsWith("-")) {
        flags.set(name, "");
        missingValue ??= arg;
        continue;
      }
      flags.set(name, value);
      i++;
    }
  }
  return { words, flags, ...(missingValue !== undefined ? { missingValue } : {}) };
}

/** Refuses flags the command does not know (a typo must not be silently ignored). */
export function checkFlags(args: ParsedArgs, allowed: readonly string[], command: string): void {
  const known = new Set([...GLOBAL_FLAGS, ...allowed]);
  for (const name of args.flags.keys()) {
    if (!known.has(name)) throw new UsageError(`unknown flag --${name} for "${command}"; see kubectl qdrant ${command} --help`);
  }
  if (args.missingValue !== undefined) throw new UsageError(`flag ${args.missingValue} needs a value`);
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS = ["kubeconfig", "context", "namespace", "output", "help"] as const;

export type OutputFormat = "table" | "json" | "yaml";

export function outputFormat(args: ParsedArgs): OutputFormat {
  const o = args.flags.get("output") ?? "table";
  if (o === "table" || o === "wide") return "table";
  if (o === "json" || o === "yaml") return o;
  throw new UsageError(`-o ${o}: the output is one of json, yaml (default: a table)`);
}
