/**
 * Runs the operator's manager (src/main.ts manager) as a real process against the test cluster, watching
 * only the given namespaces so parallel test files never reconcile each other's objects.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { REPO_ROOT } from "../env/paths.ts";
import { eventually, testEnv } from "./testenv.ts";

export interface ManagerProcess {
  child: ChildProcess;
  logPath: string;
  log(): Promise<string>;
  stop(): Promise<number | null>;
}

/** `opts.env` adds environment variables to the manager's (e.g. QDRANT_OPERATOR_CLOCK_OFFSET_MS). */
export async function startManager(t: TestContext, namespaces: string[], extraArgs: string[] = [], opts: { env?: Record<string, string> } = {}): Promise<ManagerProcess> {
  const logPath = join(await mkdtemp(join(tmpdir(), "qdrant-operator-manager-")), "manager.log");
  const out = createWriteStream(logPath);
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "src", "main.ts"), "manager", `--namespaces=${namespaces.join(",")}`, "--leader-elect=false", "--http-address=127.0.0.1:0", `--kubeconfig=${testEnv().kubeconfig}`, ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const handle: ManagerProcess = {
    child,
    logPath,
    log: () => readFile(logPath, "utf8"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  t.after(async () => {
    await handle.stop();
  });
  await eventually("the manager to start its controllers", async () => ((await handle.log()).includes("Starting workers") ? true : undefined), 30_000);
  return handle;
}
