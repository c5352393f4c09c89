/**
 * `npm run testenv -- up|status|down`, exercised with every part pointed at the running environment
 * (KUBECONFIG, S3_ENDPOINT, QDRANT_URL), which is also how a person points the suite at their own
 * cluster: nothing is built or started, and the printed JSON says what is used. Two checkouts on one
 * machine share the temp dir but never each other's environment.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import { join } from "node:path";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { checkoutKey, REPO_ROOT } from "../env/paths.ts";
import { testEnv } from "../helpers/testenv.ts";

const run = promisify(execFile);
const node = process.execPath;

/**
 * The environment variables for a CLI run with every part external, and `tmp` as the temp dir: each test
 * here has a private one, so nothing it starts or stops can be a developer's `testenv up` (or the suite's).
 */
function externalVars(tmp: string): NodeJS.ProcessEnv {
  const env = testEnv();
  return {
    ...process.env,
    TMPDIR: tmp,
    KUBECONFIG: env.kubeconfig,
    S3_ENDPOINT: env.s3.endpoint,
    S3_ACCESS_KEY_ID: env.s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
    QDRANT_URL: env.qdrant?.url ?? "http://127.0.0.1:1",
  };
}

/**
 * A second checkout of the environment's code: test/env copied (its root is then the copy's, as in a
 * clone), with the emulator and the packages linked from this one.
 */
async function secondCheckout(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "testenv-clone-"));
  await mkdir(join(root, "test"));
  await cp(join(REPO_ROOT, "test", "env"), join(root, "test", "env"), { recursive: true });
  await symlink(join(REPO_ROOT, "test", "emulator"), join(root, "test", "emulator"));
  await symlink(join(REPO_ROOT, "node_modules"), join(root, "node_modules"));
  await cp(join(REPO_ROOT, "package.json"), join(root, "package.json"));
  return root;
}

test("testenv up reuses a running environment, status reports it, down stops it", async (t) => {
  const env = testEnv();
  const cli = join(REPO_ROOT, "test", "env", "cli.ts");
  const tmp = await mkdtemp(join(tmpdir(), "testenv-cli-"));
  const vars = externalVars(tmp);
  t.after(async () => {
    await run(node, [cli, "down"], { env: vars, timeout: 90_000 }).catch(() => undefined);
    await rm(tmp, { recursive: true, force: true });
  });
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

test("two checkouts sharing one temp dir keep their environments apart: down in one leaves the other running", async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), "testenv-cli-"));
  const vars = externalVars(tmp);
  const cliA = join(REPO_ROOT, "test", "env", "cli.ts");
  const cloneRoot = await secondCheckout();
  const cliB = join(cloneRoot, "test", "env", "cli.ts");
  // Whatever happens below, neither environment outlives the test (both live under its private temp
  // dir, which goes only after both are down: their state is what `down` reads).
  t.after(async () => {
    for (const cli of [cliB, cliA]) await run(node, [cli, "down"], { env: vars, timeout: 90_000 }).catch(() => undefined);
    await rm(cloneRoot, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });
  const pidOf = async (cli: string) => Number(/running \(pid (\d+)\)/.exec((await run(node, [cli, "status"], { env: vars })).stdout)?.[1]);

  await run(node, [cliA, "up"], { env: vars, timeout: 120_000 });
  await assert.rejects(run(node, [cliB, "status"], { env: vars }), (err: { code?: number }) => err.code === 3, "the second checkout does not see the first one's environment");
  await run(node, [cliB, "up"], { env: vars, timeout: 120_000 });
  const [pidA, pidB] = [await pidOf(cliA), await pidOf(cliB)];
  assert.notEqual(pidA, pidB, "each checkout runs its own environment");
  const stateDirs = (await readdir(tmp)).filter((n) => /^qdrant-operator-testenv-[^-]+$/.test(n));
  assert.equal(stateDirs.length, 2, `one state dir per checkout: ${stateDirs.join(", ")}`);

  const down = await run(node, [cliB, "down"], { env: vars, timeout: 90_000 });
  assert.match(down.stdout, /testenv: stopped/);
  await assert.rejects(run(node, [cliB, "status"], { env: vars }), (err: { code?: number }) => err.code === 3);
  assert.equal(await pidOf(cliA), pidA, "the first checkout's environment still runs");
  assert.match((await run(node, [cliA, "down"], { env: vars, timeout: 90_000 })).stdout, /testenv: stopped/);
});

test("a stale-run sweep removes this checkout's dead runs and never another checkout's", async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), "testenv-cli-"));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  // A pid that no longer runs: the owner of both runs died without cleaning up.
  const exited = await run(node, ["-e", "console.log(process.pid)"]);
  const deadPid = exited.stdout.trim();
  const ours = join(tmp, `qdrant-operator-testenv-${checkoutKey(REPO_ROOT)}-run-${deadPid}-a`);
  const theirs = join(tmp, `qdrant-operator-testenv-${checkoutKey(join(tmpdir(), "another-clone"))}-run-${deadPid}-b`);
  for (const dir of [ours, theirs]) {
    await mkdir(dir);
    await writeFile(join(dir, "owner"), deadPid);
  }
  // The sweep as `testenv up` and `npm test` run it, with the temp dir both checkouts share.
  const sweep = `const m = await import(${JSON.stringify(join(REPO_ROOT, "test", "env", "environment.ts"))}); console.log(JSON.stringify(await m.cleanStaleRuns()));`;
  const swept = await run(node, ["--input-type=module", "-e", sweep], { env: { ...process.env, TMPDIR: tmp } });
  assert.deepEqual(JSON.parse(swept.stdout), [ours]);
  assert.deepEqual(await readdir(tmp), [theirs.slice(tmp.length + 1)], "the other checkout's run is left for its own sweep");
});
