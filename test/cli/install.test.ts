/**
 * The plugin as a user installs it: `npm pack` (whose prepack builds dist/) and `npm install -g` of the
 * tarball into a prefix put `kubectl-qdrant` in <prefix>/bin, and the real kubectl finds it there as
 * `kubectl qdrant`. The bin's shebang is `/usr/bin/env node`: PATH has this package's Node 26 first, as
 * the engines field asks.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { access, constants, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "../env/paths.ts";
import { kubectlQdrant } from "./plugin.ts";

const run = promisify(execFile);

test("npm pack + npm install -g puts kubectl-qdrant on PATH, and kubectl qdrant --help runs the built plugin", { timeout: 600_000 }, async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), "plugin-install-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
  const packed = await run("npm", ["pack", "--silent", "--pack-destination", scratch], { cwd: REPO_ROOT, env, maxBuffer: 64 << 20 });
  const tarball = join(scratch, packed.stdout.trim().split("\n").at(-1)!);
  const prefix = join(scratch, "prefix");
  await run("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", tarball], { env, maxBuffer: 64 << 20 });
  const bin = join(prefix, "bin");
  await access(join(bin, "kubectl-qdrant"), constants.X_OK);
  const help = await kubectlQdrant(["--help"], { pathDirs: [bin, dirname(process.execPath)] });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /backups list/);
  assert.match(help.stdout, /rollout status/);
  const version = await kubectlQdrant(["backup", "now", "--help"], { pathDirs: [bin, dirname(process.execPath)] });
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /--wait/);
});
