/**
 * `npm run dev`, the README's embedded default, as a newcomer runs it: its own control plane, node, MinIO
 * and Qdrant emulator with the operator and the examples; the example connection becomes Ready; Ctrl-C
 * stops everything and leaves no process and no temp dir behind.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { isAlive } from "../test/env/build.ts";
import type { EnvironmentInfo } from "../test/env/environment.ts";
import { REPO_ROOT } from "../test/env/paths.ts";
import { eventually } from "../test/helpers/testenv.ts";

const run = promisify(execFile);

test("npm run dev brings up the operator on the embedded environment, and Ctrl-C leaves nothing behind", async (t) => {
  // A newcomer's shell: nothing points at another cluster, S3 or Qdrant.
  const env = { ...process.env };
  for (const v of ["KUBECONFIG", "S3_ENDPOINT", "QDRANT_URL", "TESTENV_FILE"]) delete env[v];
  const child = spawn(process.execPath, [join(REPO_ROOT, "test", "env", "cli.ts"), "dev"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  await eventually("npm run dev to be ready", () => Promise.resolve(stdout.includes("Ctrl-C stops everything") ? true : undefined), 180_000).catch((err: Error) => {
    throw new Error(`${err.message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  });
  const info = JSON.parse(stdout.slice(stdout.indexOf("{"), stdout.indexOf("\n}\n") + 2)) as EnvironmentInfo;
  const runDir = info.local!.runDir;
  const kubectl = (...args: string[]) => run(info.local!.kubectl, ["--kubeconfig", info.kubeconfig, ...args]);

  await kubectl("wait", "--for=condition=Ready", "qdrantconnection/qdrant", "qdrantbackuplocation/s3", "--timeout=60s");
  const { stdout: rows } = await kubectl("get", "qdrant", "-o", "wide");
  assert.match(rows, /qdrantconnection\.qdrant-operator\.dev\/qdrant\s+http:\/\/127\.0\.0\.1:\d+\s+1\.19\.0\s+Standalone\s+True\s+Connected/);
  assert.match(rows, /qdrantbackupschedule\.qdrant-operator\.dev\/policies-nightly.*True\s+Scheduled/);
  const collections = (await (await fetch(`${info.qdrant!.url}/collections`)).json()) as { result: { collections: Array<{ name: string }> } };
  assert.deepEqual(collections.result.collections.map((c) => c.name), ["policies"]);

  const pids = (await readFile(join(runDir, "pids"), "utf8")).split("\n").filter(Boolean).map(Number);
  assert.ok(pids.length >= 7, `etcd, apiserver, controller-manager, scheduler, node agent, MinIO, manager: ${pids.join(",")}`);
  child.kill("SIGINT");
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(pids.filter((pid) => isAlive(pid)), [], "every process the environment started is gone");
  assert.equal(existsSync(runDir), false, "its temp dir is removed");
});
