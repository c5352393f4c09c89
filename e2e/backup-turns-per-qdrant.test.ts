/**
 * Turns are per Qdrant, and waiting is quiet, end to end:
 * - two namespaces, each with its own QdrantConnection to the same Qdrant: their backups take turns
 *   (connections are namespaced, the snapshot file names on Qdrant's peers are not);
 * - backups queued behind ones waiting for a missing Secret cost a number of status writes linear in
 *   their number (each names the backup right before it, which does not change while the line drains),
 *   and, once they all wait, a recheck costs no write at all. Counted by a proxy in front of the
 *   apiserver, so only this manager's requests count.
 */
import assert from "node:assert/strict";
import { test, type TestContext } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { apiKeyForSecret, qdrantUnderTest, useCollection } from "../test/helpers/qdrant.ts";
import { managerIdentity } from "../test/helpers/operator-identity.ts";
import { bucketOnlyUser, useBucket } from "../test/helpers/s3.ts";
import { eventually, testEnv, useNamespace } from "../test/helpers/testenv.ts";
import { ApiserverCounter } from "./helpers/apiserver-counter.ts";
import { apply, backupObj, condition, getBackup, getJson, secret, waitForPhase } from "./helpers/backup-world.ts";

interface JobTimes {
  status?: { startTime?: string; completionTime?: string };
}

async function events(ns: string, name: string): Promise<Array<{ type: string; reason: string; note: string }>> {
  const out = (await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout;
  return (JSON.parse(out) as { items: Array<{ type: string; reason: string; note: string }> }).items;
}

const connectionObj = (url: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: API_VERSION,
  kind: "QdrantConnection",
  metadata: { name: "qdrant" },
  spec: { url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" }, ...extra },
});
const locationObj = (bucket: string) => ({
  apiVersion: API_VERSION,
  kind: "QdrantBackupLocation",
  metadata: { name: "s3" },
  spec: { s3: { bucket, prefix: "qdrant/e2e", endpoint: testEnv().s3.endpoint, region: testEnv().s3.region, forcePathStyle: true, credentials: { secretRef: { name: "s3-creds" } } } },
});

test("backups in two namespaces, through two connections to one Qdrant, take turns", async (t: TestContext) => {
  await ensureCrds();
  const [nsA, nsB] = [await useNamespace(t, "e2e-turns-a"), await useNamespace(t, "e2e-turns-b")];
  const apiKey = apiKeyForSecret();
  const qdrant = qdrantUnderTest();
  const collection = await useCollection(t, "policies");
  const bucket = await useBucket(t);
  const creds = await bucketOnlyUser(bucket);
  await startManager(t, [nsA, nsB]);
  // The same Qdrant under two spellings of its address: the turns normalise them to one name.
  const urls = { [nsA]: qdrant.url, [nsB]: `${qdrant.url}/` };
  for (const ns of [nsA, nsB]) {
    await apply(ns, [
      secret("qdrant-key", { "api-key": apiKey }),
      secret("s3-creds", { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey }),
      connectionObj(urls[ns]!),
      locationObj(bucket),
    ]);
  }
  const collections = { names: [collection] };
  await Promise.all([apply(nsA, [backupObj("first", { collections })]), apply(nsB, [backupObj("second", { collections })])]);
  await Promise.all([waitForPhase(nsA, "first", "Succeeded"), waitForPhase(nsB, "second", "Succeeded")]);

  const [jobA, jobB] = [(await getJson<JobTimes>(nsA, "job", "backup-first"))!, (await getJson<JobTimes>(nsB, "job", "backup-second"))!];
  const spans = [jobA, jobB].map((j) => ({ start: Date.parse(j.status?.startTime ?? ""), end: Date.parse(j.status?.completionTime ?? "") }));
  assert.ok(spans.every((s) => Number.isFinite(s.start) && Number.isFinite(s.end)), "both Jobs ran to completion");
  const [early, late] = spans[0]!.start <= spans[1]!.start ? [spans[0]!, spans[1]!] : [spans[1]!, spans[0]!];
  assert.ok(early.end <= late.start, `the Jobs overlapped: ${JSON.stringify(spans.map((s) => [new Date(s.start), new Date(s.end)]))}`);

  // The one that waited says for whom, across the namespace line.
  const waited = [...(await events(nsA, "first")), ...(await events(nsB, "second"))].filter((e) => e.reason === "WaitingForBackup");
  assert.equal(waited.length, 1, JSON.stringify(waited));
  assert.match(waited[0]!.note, new RegExp(`QdrantBackup (${nsA}/first|${nsB}/second) \\(QdrantConnection (${nsA}|${nsB})/qdrant, the same Qdrant as qdrant\\) is ahead in line`));
});

test("backups queued behind ones waiting for a Secret write their status a linear number of times, and then not at all", async (t: TestContext) => {
  const N = 30;
  await ensureCrds();
  const ns = await useNamespace(t, "e2e-turns-quiet");
  // The counter sits between the manager (with its own identity) and the apiserver.
  const { counter, kubeconfig } = await ApiserverCounter.for(await managerIdentity([ns]));
  t.after(() => counter.stop());
  await startManager(t, [ns], [`--kubeconfig=${kubeconfig}`]);
  // No Secret "qdrant-key": every backup of this connection waits for it (SecretNotFound), and the
  // others queue behind whichever is first in line meanwhile.
  await apply(ns, [connectionObj("http://127.0.0.1:9"), locationObj("never-written")]);
  const names = Array.from({ length: N }, (_, i) => `b-${String(i).padStart(2, "0")}`);
  await apply(ns, names.map((n) => backupObj(n, {})));

  const statusPatches = () => counter.count((r) => r.method === "PATCH" && r.path.startsWith(`/apis/qdrant-operator.dev/v1alpha1/namespaces/${ns}/qdrantbackups/`) && r.path.endsWith("/status"));
  await eventually(
    `all ${N} backups to wait for the Secret`,
    async () => {
      const reasons = await Promise.all(names.map(async (n) => condition(await getBackup(ns, n), "Ready")?.reason));
      return reasons.every((r) => r === "SecretNotFound") ? true : undefined;
    },
    120_000,
  );
  const settled = statusPatches();
  t.diagnostic(`${settled} status PATCHes for ${N} backups to settle`);
  // About two per backup: WaitingForBackup once when it queues, SecretNotFound once when its turn comes.
  // Naming the head of the line instead rewrote every waiter at every move of it (≈ N²/4 here).
  assert.ok(settled <= 3 * N, `${settled} status PATCHes for ${N} backups to settle (want ≤ ${3 * N})`);

  // Rechecks (each reads the Secret again; 2·N reads are at least one of every backup, whatever the
  // connection's own checks add) write nothing.
  const secretReads = () => counter.count((r) => r.method === "GET" && r.path === `/api/v1/namespaces/${ns}/secrets/qdrant-key`);
  const readsBefore = secretReads();
  await eventually(`every backup to recheck`, () => (secretReads() >= readsBefore + 2 * N ? true : undefined), 180_000);
  assert.equal(statusPatches(), settled, "a recheck that finds nothing changed writes nothing");
});
