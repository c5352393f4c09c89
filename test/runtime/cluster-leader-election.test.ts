/**
 * Leader election between real manager processes (test/runtime/fixtures/manager-process.ts) on a real
 * apiserver: exactly one reconciles; after the leader is SIGKILLed the standby takes over once the lease
 * expires; a SIGTERMed leader releases the lease so the next one takes over at once; neither logs nor
 * Events ever contain the secret the processes were given; and a leader whose renewals are held (a proxy
 * in front of its apiserver) sends no write after its lease has expired, while the standby takes over.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { ApiProxy } from "./fixtures/api-proxy.ts";
import { eventually, startTestCluster, type TestCluster } from "./fixtures/cluster.ts";

const REPO = join(import.meta.dirname, "..", "..");
const LEASE_MS = 4_000;
const RETRY_MS = 500;
/** A candidate's retry period with client-go's jitter factor 1.2. */
const MAX_RETRY_MS = RETRY_MS * 2.2;
const SECRET = `qdr-${process.pid}-7d1c9e0b-secret`;

let cluster: TestCluster;
let client: RestClient;

before(async () => {
  cluster = await startTestCluster();
  client = new RestClient(cluster.kubeAccess());
});
after(() => cluster?.stop());

interface Line {
  level: string;
  msg: string;
  time: string;
  [k: string]: unknown;
}

interface ManagerProc {
  name: string;
  child: ChildProcess;
  lines: Line[];
  raw: string[];
  exit: Promise<number | null>;
  /** Wall-clock ms when the first line matching `pred` was read. */
  seen(pred: (l: Line) => boolean): number | undefined;
}

/** `kubeconfig`: another way to the apiserver than the admin kubeconfig (a proxy). */
function startManager(t: TestContext, name: string, ns: string, kubeconfig = cluster.kubeconfigPath): ManagerProc {
  const child = spawn(
    process.execPath,
    [
      "test/runtime/fixtures/manager-process.ts",
      `--namespaces=${ns}`,
      `--leader-election-namespace=${ns}`,
      "--leader-election-id=runtime-test",
      `--lease-duration=${LEASE_MS}ms`,
      "--renew-deadline=3s",
      `--retry-period=${RETRY_MS}ms`,
      "--http-address=127.0.0.1:0",
      "--shutdown-timeout=5s",
    ],
    { cwd: REPO, env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAME: name, TEST_SECRET: SECRET }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: Line[] = [];
  const raw: string[] = [];
  const seenAt = new Map<Line, number>();
  let buf = "";
  child.stdout.on("data", (chunk: Buffer) => {
    buf += chunk.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const text = buf.slice(0, i);
      buf = buf.slice(i + 1);
      raw.push(text);
      try {
        const line = JSON.parse(text) as Line;
        lines.push(line);
        seenAt.set(line, Date.now());
      } catch {
        // not JSON: kept in raw for the secret scan
      }
    }
  });
  child.stderr.on("data", (chunk: Buffer) => raw.push(chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return {
    name,
    child,
    lines,
    raw,
    exit,
    seen: (pred) => {
      const l = lines.find(pred);
      return l ? seenAt.get(l) : undefined;
    },
  };
}

const acquired = (l: Line) => l.msg === "Successfully acquired lease";
const reconciledNames = (m: ManagerProc) => new Set(m.lines.filter((l) => l.msg === "Reconciled").map((l) => String(l.name)));
const hasAll = (m: ManagerProc, names: string[]) => names.every((n) => reconciledNames(m).has(n));

async function httpGet(m: ManagerProc, path: string): Promise<{ status: number; body: string }> {
  const addr = m.lines.find((l) => l.msg === "Starting metrics and health server")?.address;
  if (typeof addr !== "string") throw new Error(`${m.name} has not started its server`);
  const res = await fetch(`http://${addr}${path}`);
  return { status: res.status, body: await res.text() };
}

async function createConfigMap(ns: string, name: string, data: Record<string, string> = { v: "1" }) {
  await client.request("POST", `/api/v1/namespaces/${ns}/configmaps`, { body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data } });
}

test("two managers: one reconciles; SIGKILL → takeover after the lease; SIGTERM → release and immediate takeover; no secret anywhere", async (t) => {
  const ns = await cluster.namespace(t, "le");
  const m1 = startManager(t, "m1", ns);
  const m2 = startManager(t, "m2", ns);
  const [leader, standby] = await eventually("one manager to acquire the lease", () => (m1.seen(acquired) ? [m1, m2] : m2.seen(acquired) ? [m2, m1] : undefined));

  await createConfigMap(ns, "a");
  await createConfigMap(ns, "b");
  await createConfigMap(ns, "flaky", { fail: "once" });
  await eventually("the leader to reconcile a, b and flaky", () => (hasAll(leader, ["a", "b", "flaky"]) ? true : undefined));
  await eventually("the standby to sync its cache", async () => ((await httpGet(standby, "/readyz")).status === 200 ? true : undefined));
  assert.equal(standby.seen(acquired), undefined);
  assert.equal(reconciledNames(standby).size, 0, "the standby reconciles nothing");
  assert.ok(leader.lines.some((l) => l.msg === "Reconciler error" && l.name === "flaky"), "the flaky ConfigMap failed once");
  assert.match((await httpGet(leader, "/metrics")).body, /leader_election_master_status\{name="[^"]+\/runtime-test"\} 1/);
  assert.match((await httpGet(standby, "/metrics")).body, /leader_election_master_status\{name="[^"]+\/runtime-test"\} 0/);
  assert.equal((await httpGet(leader, "/readyz")).status, 200);

  // SIGKILL: no release; the standby must wait for the lease to expire, then take over.
  leader.child.kill("SIGKILL");
  const killedAt = Date.now();
  await leader.exit;
  await eventually("the standby to take over", () => standby.seen(acquired));
  const takeover = standby.seen(acquired)! - killedAt;
  t.diagnostic(`takeover ${takeover} ms after SIGKILL (lease ${LEASE_MS} ms, retry ${RETRY_MS} ms)`);
  assert.ok(takeover >= LEASE_MS - RETRY_MS - 1_000, `took over after ${takeover} ms: before the lease could have expired`);
  assert.ok(takeover <= LEASE_MS + 2 * MAX_RETRY_MS + 1_500, `took over after ${takeover} ms: later than the lease allows`);
  await createConfigMap(ns, "c");
  await eventually("the new leader to reconcile every object", () => (hasAll(standby, ["a", "b", "flaky", "c"]) ? true : undefined));

  // SIGTERM: drain, release, exit 0; a third manager takes over without waiting out the lease.
  const m3 = startManager(t, "m3", ns);
  await eventually("m3 to see the current leader", () => m3.lines.find((l) => l.msg === "New leader elected"));
  standby.child.kill("SIGTERM");
  const termAt = Date.now();
  assert.equal(await standby.exit, 0);
  assert.ok(standby.lines.some((l) => l.msg === "Released leader lease"));
  await eventually("m3 to take over", () => m3.seen(acquired));
  const handover = m3.seen(acquired)! - termAt;
  t.diagnostic(`handover ${handover} ms after SIGTERM`);
  assert.ok(handover < LEASE_MS, `a released lease is taken at once, not after expiry (${handover} ms)`);
  m3.child.kill("SIGTERM");
  assert.equal(await m3.exit, 0);

  // Secrets: the flaky reconcile put the secret into an error message and an Event note.
  const logs = [m1, m2, m3].flatMap((m) => m.raw).join("\n");
  assert.ok(logs.includes("[REDACTED]"), "the secret-bearing error was logged, redacted");
  assert.ok(!logs.includes(SECRET), "no log line contains the secret");
  const events = await client.request<{ items: Array<{ reason: string; note?: string }> }>("GET", `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
  const failed = events.items.filter((e) => e.reason === "ReconcileFailed");
  assert.ok(failed.length >= 1 && failed.every((e) => e.note === "upstream rejected the key [REDACTED]"), JSON.stringify(failed));
  assert.ok(!JSON.stringify(events).includes(SECRET), "no Event contains the secret");
});

test("a leader whose renewals are held sends no write after its lease expired; the standby takes over", async (t) => {
  const ns = await cluster.namespace(t, "le-fence");
  const dir = await mkdtemp(join(tmpdir(), "le-fence-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const proxy = new ApiProxy(cluster.kubeConfig());
  const url = await proxy.start();
  t.after(() => proxy.stop());
  const leader = startManager(t, "m1", ns, await proxy.kubeconfig(url, dir));
  await eventually("m1 to acquire the lease", () => leader.seen(acquired));
  const standby = startManager(t, "m2", ns);
  await eventually("m2 to see m1 lead", () => standby.lines.find((l) => l.msg === "New leader elected"));

  // A reconcile that writes every 100 ms for a minute and ignores its signal.
  await createConfigMap(ns, "busy", { busy: "60000" });
  const busyWrites = () => proxy.otherWrites().filter((w) => w.path.includes("/configmaps/busy"));
  await eventually("m1 to be writing", () => (busyWrites().length >= 5 ? true : undefined));
  proxy.holdLeaseWrites = true;
  const heldAt = Date.now();

  await eventually("m2 to take over", () => standby.seen(acquired));
  assert.equal(await leader.exit, 1, "the deposed leader exits non-zero");
  assert.ok(proxy.heldLeaseWrites > 0, "m1 tried to renew");
  const renewal = proxy.leaseRenewals().at(-1)!;
  const lease = JSON.parse(renewal.body!) as { spec: { holderIdentity: string; renewTime: string; leaseDurationSeconds: number } };
  assert.match(lease.spec.holderIdentity, /^m1_/);
  const expiry = new Date(lease.spec.renewTime).getTime() + lease.spec.leaseDurationSeconds * 1000;
  const writes = proxy.otherWrites();
  const last = Math.max(...writes.map((w) => w.at));
  t.diagnostic(`m1's last write ${last - new Date(lease.spec.renewTime).getTime()} ms after its last renewal; the lease expired ${expiry - new Date(lease.spec.renewTime).getTime()} ms after it; m2 took over ${standby.seen(acquired)! - heldAt} ms after the hold`);
  assert.ok(writes.some((w) => w.at > heldAt && w.path.includes("/configmaps/busy")), "m1 went on writing while its lease was still valid");
  assert.deepEqual(
    writes.filter((w) => w.at >= expiry).map((w) => `${w.method} ${w.path} at expiry+${w.at - expiry} ms`),
    [],
    "no write of m1 reached the apiserver after its lease expired",
  );
  assert.ok(leader.lines.some((l) => l.msg === "Leadership lost; refusing writes and aborting in-flight reconciles"));
  await eventually("m2 to run the busy reconcile", async () => {
    const cm = await client.request<{ metadata: { annotations?: Record<string, string> } }>("GET", `/api/v1/namespaces/${ns}/configmaps/busy`);
    return cm.metadata.annotations?.tick === "0" ? undefined : true;
  });
  standby.child.kill("SIGTERM");
  assert.equal(await standby.exit, 0);
});
