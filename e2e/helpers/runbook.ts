/**
 * Runs a runbook of docs/runbooks/ as a person would: every ```sh block in the order of the page, in one
 * `bash` with `set -euo pipefail` (one terminal: what a block sets, the next one has), with the real kubectl, the real `kubectl qdrant` plugin, curl and jq on PATH and
 * the test's kubeconfig. Nothing in a block is rewritten: a runbook's variables (NS, COLLECTION, …) are
 * set in its first block with `: "${NS:=…}"`, which a reader runs as it is and the test overrides through
 * the environment.
 *
 * A block fenced as ```sh provider is a step done in the user's own S3 or cloud console (creating an
 * access key, say), which no test here can run as written; the test does its equivalent against MinIO and
 * says so, and `blocks()` lists such blocks apart so a test can assert it handled each.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import type { TestContext } from "node:test";
import { dirname, join } from "node:path";
import { REPO_ROOT } from "../../test/env/paths.ts";
import { pluginDir } from "../../test/cli/plugin.ts";
import { jqPath } from "../../test/helpers/tools.ts";
import { testEnv } from "../../test/helpers/testenv.ts";

export interface Block {
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** "sh" (run) or "sh provider" (the user's provider; the test does its equivalent). */
  kind: "sh" | "provider";
  code: string;
}

/** The ```sh and ```sh provider blocks of a Markdown page, in order. */
export function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```sh( provider)?\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`unclosed code block at line ${start + 1}`);
    out.push({ line: start + 1, kind: open[1] ? "provider" : "sh", code: body.join("\n") });
  }
  return out;
}

export interface Runbook {
  path: string;
  blocks: Block[];
  /** Runs the next block; a provider block must be passed over with skipProvider. */
  next(): Promise<{ stdout: string; stderr: string; block: Block }>;
  /** Passes over the next block, which must be a provider block: the test did its equivalent. */
  skipProvider(): Block;
  /** Runs every block left up to the next provider block (or the end); returns their output joined. */
  runToProvider(): Promise<string>;
  /** True when every block was run or passed over. */
  done(): boolean;
}

/** Opens docs/runbooks/<name>.md to be run with `vars` (NS, COLLECTION, QDRANT_URL, …) in the environment. */
export async function openRunbook(t: TestContext, name: string, vars: Record<string, string>): Promise<Runbook> {
  const path = join(REPO_ROOT, "docs", "runbooks", `${name}.md`);
  const all = blocks(await readFile(path, "utf8"));
  assert.ok(all.length > 0, `${path} has no sh block`);
  const env = testEnv();
  const kubectlDir = dirname(env.local?.kubectl ?? "/usr/bin/kubectl");
  const path2 = [kubectlDir, await pluginDir(), dirname(await jqPath()), dirname(process.execPath), process.env.PATH ?? ""].join(":");
  const shellEnv = { HOME: process.env.HOME ?? "/root", PATH: path2, KUBECONFIG: env.kubeconfig, ...vars };
  let at = 0;
  // One shell for the whole page, as one terminal: a variable a block sets is there in the next. With
  // `set -e` a failing command ends the shell, which fails the block it was in.
  const shell = spawn("bash", ["--norc", "--noprofile"], { env: shellEnv, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let exited: number | null | undefined;
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  shell.stdout.on("data", (d: Buffer) => ((stdout += d.toString()), wake()));
  shell.stderr.on("data", (d: Buffer) => ((stderr += d.toString()), wake()));
  shell.on("exit", (code) => ((exited = code), wake()));
  shell.stdin.write("set -euo pipefail\n");
  let blockNo = 0;
  const runBlock = async (block: Block) => {
    const marker = `__runbook_block_${++blockNo}_done__`;
    const from = { out: stdout.length, err: stderr.length };
    shell.stdin.write(`${block.code}\necho ${marker}\n`);
    for (;;) {
      const seen = stdout.indexOf(marker, from.out);
      if (seen >= 0) {
        const out = { stdout: stdout.slice(from.out, seen), stderr: stderr.slice(from.err), block };
        stdout = stdout.slice(0, seen) + stdout.slice(seen + marker.length + 1);
        return out;
      }
      if (exited !== undefined) {
        throw new Error(`${name}.md line ${block.line}: the shell exited ${exited}\n--- block\n${block.code}\n--- stdout\n${stdout.slice(from.out)}\n--- stderr\n${stderr.slice(from.err)}`);
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  t.after(() => {
    if (exited === undefined) shell.kill("SIGKILL");
  });
  const rb: Runbook = {
    path,
    blocks: all,
    async next() {
      const block = all[at];
      if (!block) throw new Error(`${name}.md: no block left`);
      if (block.kind === "provider") throw new Error(`${name}.md line ${block.line} is a provider block: the test must do its equivalent and skipProvider()`);
      at++;
      return runBlock(block);
    },
    skipProvider() {
      const block = all[at];
      if (block?.kind !== "provider") throw new Error(`${name}.md: the next block (line ${block?.line}) is not a provider block`);
      at++;
      return block;
    },
    async runToProvider() {
      let out = "";
      while (at < all.length && all[at]!.kind === "sh") out += (await rb.next()).stdout;
      return out;
    },
    done: () => at === all.length,
  };
  return rb;
}
