/**
 * Runs `kubectl qdrant …` as a user would: the environment's real kubectl, finding the plugin on PATH as
 * `kubectl-qdrant` (a directory holding an executable that runs src/cli/kubectl-qdrant.ts with this
 * Node), with the environment's kubeconfig in KUBECONFIG (kubectl passes a plugin no flags).
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { testEnv } from "../helpers/testenv.ts";

export const PLUGIN_SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/cli/kubectl-qdrant.ts");

export interface PluginResult {
  code: number;
  stdout: string;
  stderr: string;
}

let binDir: Promise<string> | undefined;

/** A directory with `kubectl-qdrant` in it (this checkout's source, run by this Node), made once per process. */
export function pluginDir(): Promise<string> {
  binDir ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "kubectl-qdrant-"));
    await writeFile(join(dir, "kubectl-qdrant"), `#!/bin/sh\nexec '${process.execPath}' '${PLUGIN_SOURCE}' "$@"\n`);
    await chmod(join(dir, "kubectl-qdrant"), 0o755);
    return dir;
  })();
  return binDir;
}

/** `kubectl qdrant <args>` with PATH = `pathDirs` (default: the plugin's directory) before the usual PATH. */
export async function kubectlQdrant(args: string[], opts: { env?: Record<string, string>; pathDirs?: string[] } = {}): Promise<PluginResult> {
  const env = testEnv();
  const dirs = opts.pathDirs ?? [await pluginDir()];
  const kubectl = env.local?.kubectl ?? "kubectl";
  return new Promise((done) => {
    execFile(
      kubectl,
      ["qdrant", ...args],
      { env: { ...process.env, KUBECONFIG: env.kubeconfig, PATH: [...dirs, process.env.PATH ?? ""].join(delimiter), ...opts.env }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The result's stdout as JSON, failing with its stderr when the command failed. */
export function json<T>(r: PluginResult): T {
  if (r.code !== 0) throw new Error(`kubectl qdrant failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
