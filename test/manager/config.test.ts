/** The operator's own settings (src/manager/config.ts), parsed beside the runtime's. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { managerHelp, parseManagerConfig } from "../../src/manager/config.ts";
import { ConfigError } from "../../src/runtime/errors.ts";
import { DEFAULT_JOB_IMAGE } from "../../src/version.ts";

const env = { POD_NAMESPACE: "operators" };
const noCluster = { inClusterNamespace: () => undefined };

test("--default-job-image: the release's image by default, the variable, the flag over the variable", () => {
  assert.equal(parseManagerConfig([], env, noCluster).operator.defaultJobImage, DEFAULT_JOB_IMAGE);
  assert.equal(parseManagerConfig([], { ...env, DEFAULT_JOB_IMAGE: "registry.example.com/team/job:2.0.0" }, noCluster).operator.defaultJobImage, "registry.example.com/team/job:2.0.0");
  const digest = "ghcr.io/x/y@sha256:" + "a".repeat(64);
  assert.equal(parseManagerConfig([`--default-job-image=${digest}`], { ...env, DEFAULT_JOB_IMAGE: "other:1" }, noCluster).operator.defaultJobImage, digest);
});

test("the operator's lease name, and the runtime's settings beside the operator's", () => {
  const { runtime } = parseManagerConfig(["--workers=4"], env, noCluster);
  assert.equal(runtime.workers, 4);
  assert.ok(runtime.leaderElection.enabled && runtime.leaderElection.name === "qdrant-operator-leader");
});

test("a bad image is named together with the runtime's problems", () => {
  try {
    parseManagerConfig(["--default-job-image=Not An Image", "--log-level=loud"], env, noCluster);
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 2, err.problems.join("\n"));
    assert.ok(err.problems.some((x) => /^--default-job-image \(DEFAULT_JOB_IMAGE\) = "Not An Image": must be an image reference/.test(x)));
    assert.ok(err.problems.some((x) => x.startsWith("--log-level (LOG_LEVEL)")));
  }
});

test("--help lists the operator's flag with its variable, after the runtime's", () => {
  const help = managerHelp();
  assert.match(help, /--default-job-image\s+DEFAULT_JOB_IMAGE\s+image for Jobs/);
  assert.ok(help.indexOf("--namespaces") < help.indexOf("--default-job-image"));
});

test("the CLI: `manager --help` lists --default-job-image; a bad one exits 2 naming it, before touching a cluster", () => {
  const main = join(import.meta.dirname, "..", "..", "src", "main.ts");
  const help = spawnSync(process.execPath, [main, "manager", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--default-job-image\s+DEFAULT_JOB_IMAGE/);
  const bad = spawnSync(process.execPath, [main, "manager", "--leader-elect=false"], { encoding: "utf8", env: { ...process.env, DEFAULT_JOB_IMAGE: "Not An Image", KUBECONFIG: "/nonexistent" } });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /--default-job-image \(DEFAULT_JOB_IMAGE\) = "Not An Image"/);
});
