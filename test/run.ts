/**
 * `npm test` after lint: starts one test environment (test/env), runs every test file against it with
 * Node's test runner, and stops it. Tests find the environment through TESTENV_FILE. When a test fails,
 * the component logs are kept under .testenv/logs/ and their paths printed.
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { startEnvironment } from "./env/environment.ts";
import { REPO_ROOT } from "./env/paths.ts";

const patterns = process.argv.slice(2);
const files = patterns.length > 0 ? patterns : ["test/**/*.test.ts", "e2e/**/*.test.ts"];

const started = Date.now();
const env = await startEnvironment();
process.stderr.write(`test: environment ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
const envFile = join(env.info.local?.runDir ?? join(REPO_ROOT, ".testenv"), "testenv.json");
await mkdir(dirname(envFile), { recursive: true });
await writeFile(envFile, JSON.stringify(env.info, null, 2));

let stopping = false;
const finish = async (code: number) => {
  if (stopping) return;
  stopping = true;
  const keepLogsIn = code !== 0 ? join(REPO_ROOT, ".testenv", "logs", new Date().toISOString().replace(/[:.]/g, "-")) : undefined;
  const kept = await env.stop(keepLogsIn ? { keepLogsIn } : {});
  if (keepLogsIn) {
    process.stderr.write("\ntest: some tests failed; component logs:\n");
    for (const [name, path] of Object.entries(kept)) process.stderr.write(`  ${name}: ${path}\n`);
  }
  process.exit(code);
};

// The Go components are I/O bound in tests; run test files in parallel beyond the 2 cores.
const child = spawn(process.execPath, ["--test", "--test-concurrency=4", "--test-timeout=600000", ...files], {
  cwd: REPO_ROOT,
  stdio: "inherit",
  env: { ...process.env, TESTENV_FILE: envFile },
});
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    child.kill(sig);
  });
}
child.on("exit", (code, signal) => void finish(code ?? (signal ? 1 : 0)));
