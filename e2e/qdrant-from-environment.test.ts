/**
 * The end-to-end tests take their Qdrant from the environment: run with the environment's Qdrant replaced
 * by another one (as `QDRANT_URL=… QDRANT_PEERS=… npm test` does; here the environment's emulators seen
 * through recording proxies, so they count as external and have no admin port), a backup test creates its
 * collection, has the Job snapshot and download it, and deletes it there; the distributed one does the same
 * on the peers; and a test that needs the emulator's faults is skipped saying why instead of starting an
 * emulator of its own.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "../test/env/paths.ts";
import { qdrantUnderTest } from "../test/helpers/qdrant.ts";
import { startQdrantProxy } from "../test/helpers/qdrant-proxy.ts";
import { testEnv } from "../test/helpers/testenv.ts";

const run = promisify(execFile);

test("with QDRANT_URL and QDRANT_PEERS naming another Qdrant, the backup tests talk to it, standalone and distributed, and emulator-only tests skip saying why", async (t) => {
  const proxy = await startQdrantProxy(qdrantUnderTest().url);
  t.after(() => proxy.close());
  const peerProxies = [];
  for (const peer of qdrantUnderTest().peers) {
    const p = await startQdrantProxy(peer);
    t.after(() => p.close());
    peerProxies.push(p);
  }
  // The description `npm test` writes when QDRANT_URL and QDRANT_PEERS are set: no admin ports.
  const dir = await mkdtemp(join(tmpdir(), "e2e-external-qdrant-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const envFile = join(dir, "testenv.json");
  const env = testEnv();
  await writeFile(envFile, JSON.stringify({ ...env, qdrant: { url: proxy.url, peers: peerProxies.map((p) => p.url) }, external: { ...env.external, qdrant: true } }));

  // The child is a test run of its own, not a subtest process of this one (which NODE_TEST_CONTEXT says).
  const { NODE_TEST_CONTEXT: _context, ...parentEnv } = process.env;
  const child = await run(
    process.execPath,
    ["--test", "--test-reporter=spec", "--test-concurrency=1", "--test-timeout=600000", "--test-name-pattern=^a backup of a collection|^a manager SIGKILLed", "e2e/backup.test.ts", "e2e/backup-distributed.test.ts", "e2e/backup-manager-killed.test.ts"],
    { cwd: REPO_ROOT, env: { ...parentEnv, TESTENV_FILE: envFile }, maxBuffer: 64 << 20, timeout: 600_000 },
  ).catch((err: { stdout?: string; stderr?: string }) => assert.fail(`the child run failed:\n${err.stdout ?? ""}\n${err.stderr ?? ""}`));
  assert.match(child.stdout, /^ℹ pass 2$/m, child.stdout);
  assert.match(child.stdout, /^ℹ skipped 1$/m, child.stdout);
  assert.match(child.stdout, /a manager SIGKILLed.*# emulator-only: delays the Job.s snapshot call/, "the skipped test says why");

  const created = proxy.requests.find((r) => /^PUT \/collections\/policies_[\w-]+$/.test(r));
  assert.ok(created, `the world created its collection through the external Qdrant:\n${proxy.requests.join("\n")}`);
  const collection = created.slice("PUT /collections/".length);
  for (const expected of [`PUT /collections/${collection}/points`, `POST /collections/${collection}/snapshots`, `DELETE /collections/${collection}`]) {
    assert.ok(proxy.requests.includes(expected), `${expected} reached the external Qdrant:\n${proxy.requests.join("\n")}`);
  }
  assert.ok(proxy.requests.some((r) => r.startsWith(`GET /collections/${collection}/snapshots/`)), "the Job downloaded its snapshot from it");

  // The distributed test's collection, created on the first peer, snapshotted on the peers holding its shards.
  const spread = peerProxies[0]!.requests.find((r) => /^PUT \/collections\/policies_[\w-]+$/.test(r))?.slice("PUT /collections/".length);
  assert.ok(spread, `the distributed world created its collection on the first peer:\n${peerProxies[0]!.requests.join("\n")}`);
  const snapshotted = peerProxies.filter((p) => p.requests.includes(`POST /collections/${spread}/snapshots`));
  assert.ok(snapshotted.length > 1, `the Job snapshotted more than one peer: ${snapshotted.map((p) => p.url).join(", ")}`);
});
