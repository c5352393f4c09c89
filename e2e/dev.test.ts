/**
 * `npm run dev`, the README's embedded default, as a newcomer runs it: its own control plane, node, MinIO
 * and Qdrant emulator with the operator and the examples; the emulator requires the example Secret's API
 * key as a real deployment would, the example connection becomes Ready with it, and a request without
 * the key or a connection with another one is refused; the restore examples work (the IfMissing one
 * watches `policies` and brings it back, same points, when it is deleted; the drill restores it into a
 * temporary collection, verifies and deletes it); the rollout example promotes policies_v2 behind
 * policies_production (the alias switched from policies_v1, v2 with its new config and v1's points, one
 * Switched Event); Ctrl-C stops everything and leaves no process and no temp dir behind.
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

interface Rollout {
  status?: {
    phase?: string;
    previousCollection?: string;
    copy?: { copiedPoints: number; done?: boolean };
    gates?: Array<{ name: string; passed: boolean }>;
  };
}

interface Restore {
  status?: {
    phase?: string;
    targetCollection?: string;
    restoreCount?: number;
    lastRestoreTime?: string;
    lastVerifiedTime?: string;
    pointsCount?: { expected?: number; actual?: number };
    conditions?: Array<{ type: string; status: string; reason: string; message: string }>;
  };
}

/** The Qdrant's collections, without a drill's temporary one (it comes and goes every minute) unless `all` is false. */
async function userCollections(url: string, key: string, withoutDrills = true): Promise<string[]> {
  const res = (await (await fetch(`${url}/collections`, { headers: { "api-key": key } })).json()) as { result: { collections: Array<{ name: string }> } };
  return res.result.collections.map((c) => c.name).filter((n) => !withoutDrills || !/^policies-drill-[0-9a-f]{8}$/.test(n)).sort();
}

/** Every point of a collection with its vector and payload, by id. */
async function allPoints(url: string, key: string, collection: string): Promise<unknown[]> {
  const res = await fetch(`${url}/collections/${collection}/points/scroll`, {
    method: "POST",
    headers: { "api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ limit: 1000, with_payload: true, with_vector: true }),
  });
  if (!res.ok) throw new Error(`scroll ${collection}: ${res.status} ${await res.text()}`);
  const { result } = (await res.json()) as { result: { points: Array<{ id: number }> } };
  return result.points.sort((a, b) => a.id - b.id);
}

test("npm run dev brings up the operator on the embedded environment, its restore examples watch, restore and drill, its rollout example promotes, and Ctrl-C leaves nothing behind", async (t) => {
  // A newcomer's shell: nothing points at another cluster, S3 or Qdrant.
  const env = { ...process.env };
  for (const v of ["KUBECONFIG", "S3_ENDPOINT", "QDRANT_URL", "TESTENV_FILE"]) delete env[v];
  const child = spawn(process.execPath, [join(REPO_ROOT, "test", "env", "cli.ts"), "dev"], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // A test that fails midway stops `npm run dev` as its user would (Ctrl-C), so its control plane, MinIO and
  // manager go with it; a SIGKILL would orphan them. SIGKILL only if it has not exited a minute later.
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGINT");
    const stuck = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await exited;
    clearTimeout(stuck);
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
  // policies (backed up and restored), policies_v1 behind policies_production, and policies_v2 once the
  // rollout example has made it (it may have already).
  const first = await userCollections(info.qdrant!.url, key);
  assert.deepEqual(first.filter((c) => c !== "policies_v2"), ["policies", "policies_v1"], first.join());
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

  const restore = async (name: string) => JSON.parse((await kubectl("get", `qdrantrestore/${name}`, "-o", "json")).stdout) as Restore;
  const condition = (r: Restore, type: string) => r.status?.conditions?.find((c) => c.type === type);
  const events = async (name: string) => (await kubectl("get", "events.events.k8s.io", "--field-selector", `regarding.name=${name}`, "-o", 'jsonpath={range .items[*]}{.reason}: {.note}{"\\n"}{end}')).stdout;
  // The rollout example: policies_production switched from policies_v1 to policies_v2, built with its new
  // config (two shards, int8 quantization) from v1's points, every gate passed, one switch.
  const rollout = await eventually(
    "policies-v2 to promote",
    async () => {
      const r = JSON.parse((await kubectl("get", "collectionrollout/policies-v2", "-o", "json")).stdout) as Rollout;
      if (r.status?.phase === "Failed" || r.status?.phase === "Aborted") throw new Error(`policies-v2 ended ${r.status.phase}: ${JSON.stringify(r.status)}`);
      return r.status?.phase === "Promoted" ? r : undefined;
    },
    180_000,
  );
  assert.equal(rollout.status?.previousCollection, "policies_v1");
  assert.ok((rollout.status?.gates ?? []).length >= 4 && rollout.status.gates!.every((g) => g.passed), JSON.stringify(rollout.status?.gates));
  const aliasList = (await (await fetch(`${info.qdrant!.url}/aliases`, { headers: { "api-key": key } })).json()) as { result: { aliases: Array<{ alias_name: string; collection_name: string }> } };
  assert.deepEqual(aliasList.result.aliases.filter((a) => a.alias_name === "policies_production"), [{ alias_name: "policies_production", collection_name: "policies_v2" }]);
  const v2 = (await (await fetch(`${info.qdrant!.url}/collections/policies_v2`, { headers: { "api-key": key } })).json()) as { result: { config: { params: { shard_number: number }; quantization_config?: unknown } } };
  assert.equal(v2.result.config.params.shard_number, 2);
  assert.ok(v2.result.config.quantization_config, "the new quantization");
  assert.deepEqual(await allPoints(info.qdrant!.url, key, "policies_v2"), await allPoints(info.qdrant!.url, key, "policies_v1"), "v1's points in v2");
  await eventually("the rollout's one Switched Event", async () => {
    const switched = (await events("policies-v2")).split("\n").filter((e) => e.startsWith("Switched: "));
    return switched.length === 0 ? undefined : switched;
  }).then((switched) => assert.deepEqual(switched.map((e) => e.replace(/\.$/, "")), ["Switched: Switched alias policies_production to policies_v2 (from policies_v1)"]));
  assert.match((await kubectl("get", "qdrant", "-o", "wide")).stdout, /collectionrollout\.qdrant-operator\.dev\/policies-v2\s+policies_production\s.*policies_v2\s+Promoted\s+True/);

  // The restore examples work. The IfMissing one watches `policies` while it exists…
  await eventually("policies-if-missing to watch its collection", async () => {
    const r = await restore("policies-if-missing");
    return r.status?.phase === "Watching" && condition(r, "Ready")?.reason === "Watching" ? true : undefined;
  });
  assert.match((await kubectl("get", "qdrant", "-o", "wide")).stdout, /qdrantrestore\.qdrant-operator\.dev\/policies-if-missing\s+IfMissing\s.*Watching\s.*True\s+Watching/);
  // …and the drill restores the manual backup of `policies` into its temporary collection, verifies it and
  // deletes it. Verified, not Ready: the next minute's drill may be running already; Verified stays until it ends.
  const drilled = await eventually(
    "a drill to be verified",
    async () => {
      const r = await restore("policies-drill");
      return r.status?.lastVerifiedTime && condition(r, "Verified")?.status === "True" ? r : undefined;
    },
    240_000,
  );
  const drillCollection = drilled.status?.targetCollection ?? "";
  assert.match(drillCollection, /^policies-drill-[0-9a-f]{8}$/);
  assert.match(condition(drilled, "Verified")?.message ?? "", new RegExp(`^Drill verified: restored backup \\S+ into collection ${drillCollection} \\(20 points\\)`));
  await eventually("the drill's Events", async () => {
    const text = await events("policies-drill");
    return /^DrillVerified: /m.test(text) && text.includes(`DeletedTemporaryCollection: Deleted collection ${drillCollection}: the drill verified it.`) ? true : undefined;
  });

  // Delete `policies`: the IfMissing restore brings it back from the latest backup, with the same points.
  const before = await allPoints(info.qdrant!.url, key, "policies");
  assert.equal(before.length, 20);
  assert.equal((await fetch(`${info.qdrant!.url}/collections/policies`, { method: "DELETE", headers: { "api-key": key } })).status, 200);
  const restored = await eventually(
    "policies-if-missing to restore the deleted collection",
    async () => {
      const r = await restore("policies-if-missing");
      return (r.status?.restoreCount ?? 0) >= 1 && r.status?.phase === "Watching" ? r : undefined;
    },
    240_000,
  );
  // Ready says Restored until the next check finds the collection there again: then Watching.
  assert.match(`${condition(restored, "Ready")?.status} ${condition(restored, "Ready")?.reason}`, /^True (Restored|Watching)$/);
  assert.deepEqual(restored.status?.pointsCount, { expected: 20, actual: 20 });
  assert.ok(restored.status?.lastRestoreTime);
  assert.deepEqual(await allPoints(info.qdrant!.url, key, "policies"), before, "the same ids, vectors and payloads");
  assert.match(await events("policies-if-missing"), /^Restored: Restored backup \S+ into collection policies \(20 points\)/m);
  await eventually("only the examples' collections on Qdrant between drills", async () => ((await userCollections(info.qdrant!.url, key, false)).join() === "policies,policies_v1,policies_v2" ? true : undefined));

  // The rollout's status keeps the finished copy's progress (checked last: the rest says more when it fails).
  assert.deepEqual(rollout.status?.copy && [rollout.status.copy.copiedPoints, rollout.status.copy.done], [20, true], JSON.stringify(rollout.status));

  const pids = (await readFile(join(runDir, "pids"), "utf8")).split("\n").filter(Boolean).map(Number);
  assert.ok(pids.length >= 7, `etcd, apiserver, controller-manager, scheduler, node agent, MinIO, manager: ${pids.join(",")}`);
  child.kill("SIGINT");
  assert.equal(await exited, 0, stderr);
  assert.deepEqual(pids.filter((pid) => isAlive(pid)), [], "every process the environment started is gone");
  assert.equal(existsSync(runDir), false, "its temp dir is removed");
});
