/**
 * Runs the operator's manager (src/main.ts manager) as a real process against the test cluster, watching
 * only the given namespaces so parallel test files never reconcile each other's objects.
 *
 * It runs as the operator's ServiceAccount under the generated RBAC (deploy/rbac/, applied for those
 * namespaces by operator-identity.ts), never as cluster admin: a call the code makes but no rbac.ts
 * declares is refused, and the test then fails naming the verb and resource, even if the refusal did not
 * otherwise break what the test checks (an Event not recorded, a retry that later succeeded).
 *
 * Every manager also brings the test's secret scan (secret-scan.ts): when the test ends, its log, its
 * namespaces' Events, statuses, Jobs, Pods and container logs must hold none of the test's secret values.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { REPO_ROOT } from "../env/paths.ts";
import { secretScan } from "./secret-scan.ts";
import { forbiddenCalls, forbiddenMessage, managerIdentity } from "./operator-identity.ts";
import { eventually, namespaceDeletionStarted } from "./testenv.ts";

export interface ManagerProcess {
  child: ChildProcess;
  logPath: string;
  /** The kubeconfig it runs with: a token of the manager's ServiceAccount. */
  kubeconfig: string;
  log(): Promise<string>;
  stop(): Promise<number | null>;
}

export interface StartManagerOptions {
  /** Added to the manager's environment (e.g. QDRANT_OPERATOR_CLOCK_OFFSET_MS). */
  env?: Record<string, string>;
  /**
   * The log text that means the manager is up (default "Starting workers"). A standby under leader
   * election (`--leader-elect=true` in extraArgs) starts no workers until it leads: wait for "New leader
   * elected" (it has seen the lease held by another) instead.
   */
  readyWhen?: string;
}

/** `extraArgs` come after the defaults, so they override them (the last value of a flag wins). */
export async function startManager(t: TestContext, namespaces: string[], extraArgs: string[] = [], opts: StartManagerOptions = {}): Promise<ManagerProcess> {
  const kubeconfig = await managerIdentity(namespaces);
  const logPath = join(await mkdtemp(join(tmpdir(), "qdrant-operator-manager-")), "manager.log");
  const out = createWriteStream(logPath);
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, "src", "main.ts"), "manager", `--namespaces=${namespaces.join(",")}`, "--leader-elect=false", "--http-address=127.0.0.1:0", `--kubeconfig=${kubeconfig}`, ...extraArgs],
    { stdio: ["ignore", "pipe", "pipe"], ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}) },
  );
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const handle: ManagerProcess = {
    child,
    logPath,
    kubeconfig,
    log: () => readFile(logPath, "utf8"),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  const refused = async () => forbiddenCalls(await handle.log(), namespaceDeletionStarted);
  // Every test that runs a manager scans what it wrote, and its namespaces, for the test's secret values.
  const scan = secretScan(t);
  scan.watch(namespaces);
  scan.manager(handle);
  t.after(async () => {
    await handle.stop();
    const calls = await refused();
    // The scan's findings, its log read again now that it has stopped (teardown logs too).
    const leaks = await scan.report(handle);
    const problems = [calls.length > 0 ? forbiddenMessage(calls, logPath) : undefined, leaks].filter((p) => p !== undefined);
    if (problems.length === 0) return;
    // Printed as well as thrown: when the test itself already failed, the runner reports only that failure.
    console.error(problems.join("\n\n"));
    throw new Error(problems.join("\n\n"));
  });
  const readyWhen = opts.readyWhen ?? "Starting workers";
  let started: "started" | "exited";
  try {
    started = await eventually(
      `the manager to log "${readyWhen}"`,
      async () => ((await handle.log().catch(() => "")).includes(readyWhen) ? "started" : child.exitCode !== null || child.signalCode !== null ? "exited" : undefined),
      30_000,
    );
  } catch (err) {
    const calls = await refused();
    throw calls.length > 0 ? new Error(forbiddenMessage(calls, logPath), { cause: err }) : err;
  }
  if (started === "exited") throw new Error(`the manager exited (${child.exitCode ?? child.signalCode}) before starting its controllers:\n${(await handle.log()).slice(-4000)}`);
  return handle;
}
