/**
 * `npm run testenv -- up|status|down`, exercised with every part pointed at the running environment
 * (KUBECONFIG, S3_ENDPOINT, QDRANT_URL), which is also how a person points the suite at their own
 * cluster: nothing is built or started, and the printed JSON says what is used.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { join } from "node:path";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { REPO_ROOT } from "../env/paths.ts";
import { testEnv } from "../helpers/testenv.ts";

const run = promisify(execFile);

test("testenv up reuses a running environment, status reports it, down stops it", async () => {
  const env = testEnv();
  const cli = join(REPO_ROOT, "test", "env", "cli.ts");
  const vars = {
    ...process.env,
    // A private state dir keeps this test away from a developer's own `testenv up`.
    TMPDIR: await mkdtemp(join(tmpdir(), "testenv-cli-")),
    KUBECONFIG: env.kubeconfig,
    S3_ENDPOINT: env.s3.endpoint,
    S3_ACCESS_KEY_ID: env.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
    QDRANT_URL: env.qdrant?.url ?? "http://127.0.0.1:1",
  };
  const node = process.execPath;
  await assert.rejects(run(node, [cli, "status"], { env: vars }), (err: { code?: number; stdout?: string }) => err.code === 3 && /not running/.test(err.stdout ?? ""));
  const first = await run(node, [cli, "up"], { env: vars, timeout: 120_000 });
  const info = JSON.parse(first.stdout) as { kubeconfig: string; s3: { endpoint: string }; external: Record<string, boolean> };
  assert.equal(info.kubeconfig, env.kubeconfig);
  assert.equal(info.s3.endpoint, env.s3.endpoint);
  assert.deepEqual(info.external, { kubernetes: true, s3: true, qdrant: true });
  const second = await run(node, [cli, "up"], { env: vars, timeout: 30_000 });
  assert.deepEqual(JSON.parse(second.stdout), info, "a second up reuses the running environment");
  const status = await run(node, [cli, "status"], { env: vars });
  assert.match(status.stdout, /testenv: running \(pid \d+\)/);
  const down = await run(node, [cli, "down"], { env: vars, timeout: 90_000 });
  assert.match(down.stdout, /testenv: stopped/);
  await assert.rejects(run(node, [cli, "status"], { env: vars }), (err: { code?: number }) => err.code === 3);
});
