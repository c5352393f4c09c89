/**
 * `npm run testenv -- <command>`:
 *   up       start the environment in the background (or reuse the running one) and print its JSON
 *   down     stop it and remove its temp dirs
 *   status   say what runs
 *   qdrant   run the Qdrant emulator alone in the foreground (see test/emulator/README.md)
 *   dev      `npm run dev`: the environment plus the operator and deploy/examples, until Ctrl-C
 * `serve` is internal: the background process that `up` starts.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isAlive } from "./build.ts";
import { cleanStaleRuns, startEnvironment, type EnvironmentInfo } from "./environment.ts";
import { SHARED_STATE_DIR } from "./paths.ts";

const STATE_FILE = join(SHARED_STATE_DIR, "state.json");
const SUPERVISOR_LOG = join(SHARED_STATE_DIR, "supervisor.log");

interface State {
  pid: number;
  info?: EnvironmentInfo;
  error?: string;
}

async function readState(): Promise<State | undefined> {
  try {
    return JSON.parse(await readFile(STATE_FILE, "utf8")) as State;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function up(): Promise<void> {
  const existing = await readState();
  if (existing?.info && isAlive(existing.pid)) {
    console.log(JSON.stringify(existing.info, null, 2));
    return;
  }
  await rm(SHARED_STATE_DIR, { recursive: true, force: true });
  await cleanStaleRuns();
  await mkdir(SHARED_STATE_DIR, { recursive: true });
  const fd = openSync(SUPERVISOR_LOG, "a");
  const child = spawn(process.execPath, [import.meta.filename, "serve"], { detached: true, stdio: ["ignore", fd, fd], env: process.env });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  process.stderr.write(`testenv: starting in the background (pid ${pid}); log: ${SUPERVISOR_LOG}\n`);
  // Building the binaries on a cold machine takes minutes; the supervisor prints its progress to its log.
  const state = await waitFor(
    "the environment",
    async () => {
      const s = await readState();
      if (s?.info || s?.error) return s;
      if (!isAlive(pid)) return { pid, error: `the supervisor exited; see ${SUPERVISOR_LOG}` };
      return undefined;
    },
    30 * 60_000,
  );
  if (state.error) throw new Error(state.error);
  console.log(JSON.stringify(state.info, null, 2));
}

async function serve(): Promise<void> {
  let env;
  try {
    env = await startEnvironment();
  } catch (err) {
    await writeFile(STATE_FILE, JSON.stringify({ pid: process.pid, error: String(err) }));
    process.exit(1);
  }
  await writeFile(STATE_FILE, JSON.stringify({ pid: process.pid, info: env.info } satisfies State, null, 2));
  // With every part external there is no child process or server to keep the event loop alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const shutdown = () => {
    clearInterval(keepAlive);
    void env.stop().finally(() => process.exit(0));
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

async function down(): Promise<void> {
  const state = await readState();
  if (state && isAlive(state.pid)) {
    process.kill(state.pid, "SIGTERM");
    await waitFor("the environment to stop", () => Promise.resolve(isAlive(state.pid) ? undefined : true), 60_000).catch(() => process.kill(state.pid, "SIGKILL"));
  }
  await rm(SHARED_STATE_DIR, { recursive: true, force: true });
  const cleaned = await cleanStaleRuns();
  console.log(state ? "testenv: stopped" : "testenv: was not running", cleaned.length ? `(cleaned ${cleaned.length} stale run dir(s))` : "");
}

async function status(): Promise<void> {
  const state = await readState();
  if (!state || !isAlive(state.pid)) {
    console.log("testenv: not running");
    process.exitCode = 3;
    return;
  }
  console.log(`testenv: running (pid ${state.pid})`);
  console.log(JSON.stringify(state.info, null, 2));
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, () => Promise<void>> = {
  up,
  down,
  status,
  serve,
  dev: () => import("./dev.ts").then((m) => m.dev()),
  qdrant: () => import("../emulator/cli.ts").then((m) => m.main(rest)),
};
const fn = command ? commands[command] : undefined;
if (!fn) {
  console.error("usage: npm run testenv -- up | down | status | dev | qdrant [--port P] [--peers N] [--api-key K] [--data-dir D]");
  process.exit(2);
}
try {
  await fn();
} catch (err) {
  console.error(`testenv ${command}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
