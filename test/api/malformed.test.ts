/**
 * Bad input is refused by the CRD schema and CEL rules, through `kubectl apply` as a user runs it, and
 * every message names the field. Valid examples from deploy/examples are accepted.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { API_VERSION } from "../../src/api/group.ts";
import { parseSchedule } from "../../src/backup/schedule/parse-schedule.ts";
import { REPO_ROOT } from "../env/paths.ts";
import { ensureCrds } from "../helpers/crds.ts";
import { kubectl } from "../helpers/kubectl.ts";
import { useNamespace } from "../helpers/testenv.ts";

const conn = { connectionRef: { name: "qdrant" } };
const loc = { locationRef: { name: "s3" } };
const schedule = { schedule: "0 2 * * *", ...conn, ...loc, collections: { names: ["policies"] } };
const backup = { ...conn, ...loc, collections: { names: ["policies"] } };
const restore = { source: { backupRef: { name: "b" } }, target: conn };
const rollout = { ...conn, alias: "prod", collection: "prod_v2", source: { external: {} } };
const s3 = { bucket: "backups", credentials: { secretRef: { name: "creds" } } };

/** What the error for a `.` or `..` name at `field` (a regular expression's source) must say. */
const dotName = (field: string) => new RegExp(`${field}: Invalid value: "\\.{1,2}": "\\." and "\\.\\." cannot be collection or alias names: in a URL path they mean "this" and "the parent"`);

/** [kind, spec, what the error must name] */
const CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ["QdrantBackupSchedule", { ...schedule, schedule: "every day" }, /spec\.schedule.*it has 2 fields, not 5/],
  ["QdrantBackupSchedule", { ...schedule, schedule: "0 2 * *" }, /spec\.schedule.*it has 4 fields, not 5; use 5 fields/],
  ["QdrantBackupSchedule", { ...schedule, schedule: "0 0 2 * * *" }, /spec\.schedule.*it has 6 fields, not 5 \(seconds are not supported\)/],
  ["QdrantBackupSchedule", { ...schedule, schedule: "@every 5m" }, /spec\.schedule.*@every is not supported: write the interval as a step/],
  ["QdrantBackupSchedule", { ...schedule, schedule: "@reboot" }, /spec\.schedule.*unknown nickname; use 5 fields/],
  ["QdrantBackupSchedule", { ...schedule, schedule: "TZ=Europe/Berlin 0 2 * * *" }, /spec\.schedule.*put it in spec\.timeZone/],
  ["QdrantBackupSchedule", { ...schedule, timeZone: "Not A Zone!" }, /spec\.timeZone/],
  ["QdrantBackupSchedule", { ...schedule, retention: { keepDaily: -1 } }, /spec\.retention\.keepDaily/],
  ["QdrantBackupSchedule", { ...schedule, retention: { maxAge: "thirty days" } }, /spec\.retention\.maxAge/],
  ["QdrantBackupSchedule", { ...schedule, concurrencyPolicy: "Sometimes" }, /spec\.concurrencyPolicy/],
  ["QdrantBackupSchedule", { ...schedule, startingDeadlineSeconds: 0 }, /spec\.startingDeadlineSeconds/],
  ["QdrantBackupSchedule", { ...schedule, locationRef: undefined }, /spec\.locationRef/],
  ["QdrantBackupSchedule", { ...schedule, collections: { names: ["a"], all: true } }, /spec\.collections.*exactly one of names, all: true, or pattern/],
  ["QdrantBackupSchedule", { ...schedule, collections: undefined }, /spec\.collections.*required in Collection mode/],
  ["QdrantBackupSchedule", { ...schedule, mode: "FullStorage" }, /spec\.collections.*not allowed in FullStorage mode/],
  ["QdrantBackupSchedule", { ...schedule, collections: { names: ["bad/name"] } }, /spec\.collections\.names\[0\].*must not contain < > : " \/ \\ \| \? \* or a control character/],
  ["QdrantBackupSchedule", { ...schedule, collections: { names: ["ok", ".."] } }, dotName("spec\\.collections\\.names\\[1\\]")],
  ["QdrantBackupSchedule", { ...schedule, job: { backoffLimit: 99 } }, /spec\.job\.backoffLimit/],
  ["QdrantBackupSchedule", { ...schedule, unknownField: true }, /unknown field "spec\.unknownField"/],
  ["QdrantBackup", { ...backup, deletionPolicy: "Shred" }, /spec\.deletionPolicy/],
  ["QdrantBackup", { ...backup, connectionRef: { name: "Not_A_Name" } }, /spec\.connectionRef\.name/],
  ["QdrantBackup", { ...backup, collections: { names: ["."] } }, dotName("spec\\.collections\\.names\\[0\\]")],
  ["QdrantRestore", { ...restore, source: { backupRef: { name: "b" }, latest: { ...loc, collection: "c" } } }, /spec\.source.*exactly one of backupRef, location or latest/],
  ["QdrantRestore", { ...restore, source: {} }, /spec\.source.*exactly one of/],
  ["QdrantRestore", { ...restore, policy: "Always" }, /spec\.policy/],
  ["QdrantRestore", { ...restore, policy: "Drill" }, /spec\.drill.*required with policy Drill/],
  ["QdrantRestore", { ...restore, target: { ...conn, collection: "a:b" } }, /spec\.target\.collection/],
  ["QdrantRestore", { ...restore, target: { ...conn, collection: ".." } }, dotName("spec\\.target\\.collection")],
  ["QdrantRestore", { ...restore, target: { ...conn, alias: "." } }, dotName("spec\\.target\\.alias")],
  ["QdrantRestore", { ...restore, sourceCollection: ".." }, dotName("spec\\.sourceCollection")],
  ["QdrantRestore", { ...restore, source: { latest: { ...loc, collection: ".." } } }, dotName("spec\\.source\\.latest\\.collection")],
  ["QdrantRestore", { ...restore, policy: "Drill", drill: { schedule: "0 0 2 * * *" } }, /spec\.drill\.schedule.*it has 6 fields, not 5 \(seconds are not supported\)/],
  ["QdrantRestore", { ...restore, policy: "Drill", drill: { schedule: "CRON_TZ=UTC @daily" } }, /spec\.drill\.schedule.*put it in spec\.drill\.timeZone/],
  ["QdrantRestore", { ...restore, checkIntervalSeconds: 1 }, /spec\.checkIntervalSeconds/],
  ["QdrantRestore", { ...restore, source: { latest: { ...loc, collection: "c", notAfter: "yesterday" } } }, /spec\.source\.latest\.notAfter/],
  ["QdrantRestore", { ...restore, target: { connectionRef: { name: "qdrant", namespace: "other" } } }, /unknown field "spec\.target\.connectionRef\.namespace"/],
  ["QdrantRestore", { ...restore, source: { latest: { locationRef: { name: "s3", namespace: "other" }, collection: "c" } } }, /unknown field "spec\.source\.latest\.locationRef\.namespace"/],
  ["CollectionRollout", { ...rollout, collection: "prod" }, /spec\.alias.*must differ/],
  ["CollectionRollout", { ...rollout, alias: ".." }, dotName("spec\\.alias")],
  ["CollectionRollout", { ...rollout, collection: "." }, dotName("spec\\.collection")],
  ["CollectionRollout", { ...rollout, source: { copyFrom: { collection: ".." } } }, dotName("spec\\.source\\.copyFrom\\.collection")],
  ["CollectionRollout", { ...rollout, source: { fromBackup: { source: { backupRef: { name: "b" } }, sourceCollection: ".." } } }, dotName("spec\\.source\\.fromBackup\\.sourceCollection")],
  ["CollectionRollout", { ...rollout, source: { external: {}, copyFrom: {} } }, /spec\.source.*exactly one of fromBackup, copyFrom or external/],
  ["CollectionRollout", { ...rollout, gates: { pointsWithinPercent: 150 } }, /spec\.gates\.pointsWithinPercent/],
  ["CollectionRollout", { ...rollout, retainPrevious: "1 week" }, /spec\.retainPrevious/],
  ["CollectionRollout", { ...rollout, promotion: { mode: "Sometimes" } }, /spec\.promotion\.mode/],
  ["CollectionRollout", { ...rollout, source: { copyFrom: { batchSize: 0 } } }, /spec\.source\.copyFrom\.batchSize/],
  ["CollectionRollout", { ...rollout, gates: { goldenQueries: [{ name: "q", query: { query: 1 }, minOverlap: 1.5 }] } }, /spec\.gates\.goldenQueries\[0\]\.minOverlap/],
  ["CollectionRollout", { ...rollout, gates: { goldenQueries: [{ name: "q", query: { query: 1 }, topK: 0 }] } }, /spec\.gates\.goldenQueries\[0\]\.topK/],
  ["CollectionRollout", { ...rollout, gates: { goldenQueries: [{ name: "q", query: { query: 1 } }, { name: "q", query: { query: 2 } }] } }, /spec\.gates\.goldenQueries\[1\].*Duplicate value/],
  ["CollectionRollout", { ...rollout, gates: { job: { command: ["true"] } } }, /spec\.gates\.job\.image/],
  ["CollectionRollout", { ...rollout, gates: { timeout: "soon" } }, /spec\.gates\.timeout/],
  ["CollectionRollout", { ...rollout, analysis: { window: "10 minutes" } }, /spec\.analysis\.window/],
  ["QdrantBackup", { ...backup, mode: "Incremental" }, /spec\.mode/],
  ["QdrantBackup", { ...backup, collections: undefined }, /spec\.collections.*required in Collection mode/],
  ["QdrantBackup", { ...backup, mode: "FullStorage" }, /spec\.collections.*not allowed in FullStorage mode/],
  ["QdrantBackup", { ...backup, collections: { all: true, pattern: "docs.*" } }, /spec\.collections.*exactly one of names, all: true, or pattern/],
  ["QdrantBackup", { ...backup, locationRef: undefined }, /spec\.locationRef/],
  ["QdrantBackup", { ...backup, job: { backoffLimit: -1 } }, /spec\.job\.backoffLimit/],
  ["QdrantBackup", { ...backup, job: { imagePullPolicy: "Sometimes" } }, /spec\.job\.imagePullPolicy/],
  // A Secret is always the resource's own namespace's: a reference has no namespace to name another's.
  ["QdrantConnection", { url: "http://q:6333", apiKeySecretRef: { name: "key", key: "api-key", namespace: "other" } }, /unknown field "spec\.apiKeySecretRef\.namespace"/],
  ["QdrantConnection", { url: "http://q:6333", apiKeySecretRef: { name: "key" } }, /spec\.apiKeySecretRef\.key/],
  ["QdrantConnection", { url: "http://q:6333", apiKeySecretRef: { name: "key", key: "a/b" } }, /spec\.apiKeySecretRef\.key/],
  ["QdrantConnection", { url: "http://q:6333", timeoutSeconds: 0 }, /spec\.timeoutSeconds/],
  ["QdrantConnection", { url: "http://q:6333", peers: { mode: "Cluster", restPort: 70000 } }, /spec\.peers\.restPort/],
  ["QdrantConnection", { url: "http://q:6333", peers: { mode: "Static", urls: ["q:6333"] } }, /spec\.peers\.urls\[0\]/],
  ["QdrantConnection", { url: "http://q:6333", peers: { mode: "Gossip" } }, /spec\.peers\.mode/],
  ["QdrantConnection", { url: "http://q:6333", tls: { caSecretRef: { name: "ca", key: "ca.crt", namespace: "other" } } }, /unknown field "spec\.tls\.caSecretRef\.namespace"/],
  ["QdrantBackupLocation", { s3: { ...s3, credentials: { secretRef: { name: "creds", namespace: "other" } } } }, /unknown field "spec\.s3\.credentials\.secretRef\.namespace"/],
  ["QdrantBackupLocation", { s3, encryption: { keySecretRef: { name: "age-key", key: "keys.txt", namespace: "other" } } }, /unknown field "spec\.encryption\.keySecretRef\.namespace"/],
  ["QdrantConnection", { url: "http://q:6333", service: { name: "q" } }, /spec.*exactly one of url or service/],
  ["QdrantConnection", { url: "ftp://q" }, /spec\.url/],
  ["QdrantConnection", { url: "http://q:6333", peers: { mode: "Static" } }, /spec\.peers\.urls.*required with mode Static/],
  ["QdrantBackupLocation", { s3: { ...s3, bucket: "Bad_Bucket" } }, /spec\.s3\.bucket/],
  ["QdrantBackupLocation", { s3: { ...s3, credentials: {} } }, /spec\.s3\.credentials.*exactly one of secretRef or fromEnvironment/],
  ["QdrantBackupLocation", { s3: { ...s3, serverSideEncryption: { type: "AES256", kmsKeyId: "k" } } }, /spec\.s3\.serverSideEncryption\.kmsKeyId/],
  ["QdrantBackupLocation", { s3, compression: { algorithm: "None", level: 9 } }, /spec\.compression\.level.*level applies only to algorithm Zstd/],
  ["QdrantBackupLocation", { s3, compression: { algorithm: "Zstd", level: 23 } }, /spec\.compression\.level/],
  ["QdrantBackupLocation", { s3, compression: { algorithm: "Gzip" } }, /spec\.compression\.algorithm/],
  ["QdrantBackupLocation", { s3, encryption: { keySecretRef: { name: "age-key" } } }, /spec\.encryption\.keySecretRef\.key/],
  ["QdrantBackupLocation", { s3, objectLock: { mode: "Governance", retainDays: 0 } }, /spec\.objectLock\.retainDays/],
  ["QdrantBackupLocation", { s3, objectLock: { mode: "Legal", retainDays: 7 } }, /spec\.objectLock\.mode/],
];

test(`${CASES.length} malformed resources are refused by kubectl apply, each naming its field`, async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "malformed");
  assert.ok(CASES.length >= 60);
  // Every kind has its share.
  for (const kind of ["QdrantConnection", "QdrantBackupLocation", "QdrantBackupSchedule", "QdrantBackup", "QdrantRestore", "CollectionRollout"]) {
    assert.ok(CASES.filter(([k]) => k === kind).length >= 8, `${kind} has fewer than 8 malformed cases`);
  }
  for (const [i, [kind, spec, field]] of CASES.entries()) {
    const manifest = stringify({ apiVersion: API_VERSION, kind, metadata: { name: `bad-${i}`, namespace: ns }, spec: JSON.parse(JSON.stringify(spec)) as unknown });
    await assert.rejects(kubectl(["apply", "-f", "-"], manifest), (err: { stderr?: string }) => {
      assert.match(err.stderr ?? "", field, `case ${i} (${kind}): ${err.stderr}`);
      return true;
    });
  }
});

test("kubectl apply says about a schedule what the controller says", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "schedule-words");
  const prefix = (expression: string) => `${JSON.stringify(expression)} is not a valid schedule: `;
  for (const expression of ["0 0 2 * * *", "0 2 * *", "daily", "1 2 3 4 5 6 7 8 9 10 11", "@every 5m", "@every", "@reboot", "TZ=Europe/Berlin 0 2 * * *", "   "]) {
    const parsed = parseSchedule(expression);
    assert.equal(parsed.ok, false, expression);
    if (parsed.ok) continue;
    assert.ok(parsed.problem.message.startsWith(prefix(expression)), parsed.problem.message);
    const words = parsed.problem.message.slice(prefix(expression).length);
    const manifest = stringify({ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "words", namespace: ns }, spec: { ...schedule, schedule: expression } });
    await assert.rejects(kubectl(["apply", "-f", "-"], manifest), (err: { stderr?: string }) => {
      // One error for the field, the controller's words after the value: `spec.schedule: Invalid value: "…": <words>`.
      const marker = `spec.schedule: Invalid value: ${JSON.stringify(expression)}: `;
      const lines = (err.stderr ?? "").split("\n").filter((l) => l.includes("spec.schedule"));
      assert.deepEqual(lines.map((l) => (l.includes(marker) ? l.slice(l.indexOf(marker) + marker.length).trim() : l)), [words], `${JSON.stringify(expression)}: ${err.stderr}`);
      return true;
    });
  }
});

test("immutable fields stay immutable", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "immutable");
  const apply = (kind: string, spec: Record<string, unknown>) => kubectl(["apply", "-f", "-"], stringify({ apiVersion: API_VERSION, kind, metadata: { name: "x", namespace: ns }, spec }));
  const refused = (pattern: RegExp) => (err: { stderr?: string }) => {
    assert.match(err.stderr ?? "", pattern);
    return true;
  };
  await apply("QdrantBackup", backup);
  await assert.rejects(apply("QdrantBackup", { ...backup, deletionPolicy: "Delete" }), refused(/spec: Invalid value.*spec is immutable/));
  await apply("QdrantRestore", restore);
  await assert.rejects(apply("QdrantRestore", { ...restore, source: { backupRef: { name: "other" } } }), refused(/spec\.source.*source is immutable/));
  await apply("CollectionRollout", rollout);
  await assert.rejects(apply("CollectionRollout", { ...rollout, collection: "prod_v3" }), refused(/spec\.alias.*immutable/));
});

test("every example in deploy/examples is accepted", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "examples");
  const dir = join(REPO_ROOT, "deploy", "examples");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 6);
  const { stdout } = await kubectl(["apply", "-n", ns, "-f", dir]);
  for (const kind of ["qdrantconnection", "qdrantbackuplocation", "qdrantbackupschedule", "qdrantbackup", "qdrantrestore", "collectionrollout"]) {
    assert.match(stdout, new RegExp(`${kind}\\.qdrant-operator\\.dev/\\S+ created`));
  }
});
