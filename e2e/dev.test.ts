/**
 * `npm run dev`, the README's embedded default, as a newcomer runs it: its own control plane, node, MinIO
 * and Qdrant emulator with the operator and the examples; the emulator requires the example Secret's API
 * key as a real deployment would, the example connection becomes Ready with it, and a request without
 * the key or a connection with another one is refused; Ctrl-C stops everything and leaves no process and
 * no temp dir behind.
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
import { exampleQdrantApiKey } from "../test/env/examples.ts";
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
  const apply = async (objects: unknown[]) => {
    const p = run(info.local!.kubectl, ["--kubeconfig", info.kubeconfig, "apply", "-f", "-"]);
    p.child.stdin!.end(JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
    await p;
  };

  await kubectl("wait", "--for=condition=Ready", "qdrantconnection/qdrant", "qdrantbackuplocation/s3", "qdrantbackupschedule/policies-nightly", "--timeout=60s");
  const { stdout: rows } = await kubectl("get", "qdrant", "-o", "wide");
  assert.match(rows, /qdrantconnection\.qdrant-operator\.dev\/qdrant\s+http:\/\/127\.0\.0\.1:\d+\s+1\.19\.0\s+Standalone\s+True\s+Connected/);
  assert.match(rows, /qdrantbackupschedule\.qdrant-operator\.dev\/policies-nightly.*True\s+Scheduled/);
  // The connection is Ready because it sent the example Secret's key, which the emulator requires.
  const key = await exampleQdrantApiKey();
  assert.equal(info.qdrant!.apiKey, key);
  const collections = (await (await fetch(`${info.qdrant!.url}/collections`, { headers: { "api-key": key } })).json()) as { result: { collections: Array<{ name: string }> } };
  assert.deepEqual(collections.result.collections.map((c) => c.name), ["policies"]);
  const without = await fetch(`${info.qdrant!.url}/collections`);
  assert.equal(without.status, 401, "a request without the key is refused");
  assert.equal(await without.text(), "Must provide an API key or an Authorization bearer token");
  assert.equal((await fetch(`${info.qdrant!.url}/collections`, { headers: { "api-key": `not-${key}` } })).status, 401, "a wrong key is refused");
  // A connection with another key fails by name, as against a real Qdrant.
  await apply([
    { apiVersion: "v1", kind: "Secret", metadata: { name: "wrong-api-key", namespace: "default" }, stringData: { "api-key": `not-${key}` } },
    {
      apiVersion: "qdrant-operator.dev/v1alpha1",
      kind: "QdrantConnection",
      metadata: { name: "wrong-key", namespace: "default" },
      spec: { url: info.qdrant!.url, apiKeySecretRef: { name: "wrong-api-key", key: "api-key" } },
    },
  ]);
  await eventually(
    "the wrong-key connection to be refused",
    async () => {
      const { stdout: reason } = await kubectl("get", "qdrantconnection/wrong-key", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status} {.status.conditions[?(@.type==\"Ready\")].reason}");
      return reason === "False QdrantUnauthorized" ? true : undefined;
    },
    60_000,
  );

  const pids = (await readFile(join(runDir, "pids"), "utf8")).split("\n").filter(Boolean).map(Number);
  assert.ok(pids.length >= 7, `etcd, apiserver, controller-manager, scheduler, node agent, MinIO, manager: ${pids.join(",")}`);
  child.kill("SIGINT");
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(pids.filter((pid) => isAlive(pid)), [], "every process the environment started is gone");
  assert.equal(existsSync(runDir), false, "its temp dir is removed");
});
