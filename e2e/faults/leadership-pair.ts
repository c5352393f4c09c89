/**
 * Two manager replicas with leader election on, as a Deployment with `replicas: 2` runs them: the same
 * ServiceAccount and namespaces, one Lease of the test's own in the operator's namespace (so parallel test
 * files never elect on each other's), and a short lease (8 s, renew deadline 6 s, retry 1 s) so a
 * SIGKILLed leader's successor takes over within seconds instead of client-go's 15.
 *
 * The Lease is the judge of "one takeover": its holder and `leaseTransitions` (bumped by each change of
 * holder, never by a renewal) are read with the admin's kubectl, not from the managers' own logs.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { kubectl } from "../../test/helpers/kubectl.ts";
import { startManager, type ManagerProcess } from "../../test/helpers/manager.ts";
import { OPERATOR_NAMESPACE } from "../../test/helpers/operator-identity.ts";
import { eventually } from "../../test/helpers/testenv.ts";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseTransitions?: number;
  renewTime?: string;
}

export interface LeaderPair {
  /** The Lease's name (in {@link OPERATOR_NAMESPACE}). */
  lease: string;
  leader: ManagerProcess;
  standby: ManagerProcess;
  /** The Lease's spec now. */
  read(): Promise<LeaseSpec>;
}

let counter = 0;

const electionArgs = (lease: string, identity: string): string[] => [
  "--leader-elect=true",
  `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
  `--leader-election-id=${lease}`,
  "--lease-duration=8s",
  "--renew-deadline=6s",
  "--retry-period=1s",
  `--identity=${identity}`,
];

/**
 * Starts "m1" and waits until it leads (it has started its workers), then "m2", which waits as standby
 * (it has seen m1 hold the lease). The Lease is deleted when the test ends.
 */
export async function leaderPair(t: TestContext, namespaces: string[]): Promise<LeaderPair> {
  const lease = `outage-le-${process.pid}-${++counter}`;
  t.after(() => kubectl(["delete", "lease", "-n", OPERATOR_NAMESPACE, lease, "--ignore-not-found"]).then(() => undefined));
  const read = async (): Promise<LeaseSpec> => (JSON.parse((await kubectl(["get", "lease", "-n", OPERATOR_NAMESPACE, lease, "-o", "json"])).stdout) as { spec: LeaseSpec }).spec;
  const leader = await startManager(t, namespaces, electionArgs(lease, "m1"));
  const standby = await startManager(t, namespaces, electionArgs(lease, "m2"), { readyWhen: "New leader elected" });
  const first = await read();
  assert.match(first.holderIdentity ?? "", /^m1_/, "m1 leads");
  assert.equal(first.leaseTransitions ?? 0, 0, "m1 created the lease");
  assert.doesNotMatch(await standby.log(), /Starting workers/, "the standby runs no controller");
  return { lease, leader, standby, read };
}

/**
 * SIGKILLs the leader (no release: the lease stays held until it expires) and waits until m2 holds it.
 * Returns how long the takeover took, for the test's diagnostics.
 */
export async function killLeader(pair: LeaderPair): Promise<number> {
  pair.leader.child.kill("SIGKILL");
  const killedAt = Date.now();
  await pair.leader.stop();
  await eventually("m2 to take the lease", async () => (/^m2_/.test((await pair.read()).holderIdentity ?? "") ? true : undefined), 60_000);
  await eventually("m2 to start its controllers", async () => ((await pair.standby.log()).includes("Starting workers") ? true : undefined), 30_000);
  return Date.now() - killedAt;
}

/** Exactly one change of holder since m1 created the lease, and m2 holds it. */
export async function assertOneTakeover(pair: LeaderPair): Promise<void> {
  const spec = await pair.read();
  assert.match(spec.holderIdentity ?? "", /^m2_/, "m2 holds the lease");
  assert.equal(spec.leaseTransitions, 1, "the lease changed holder once");
  const log = await pair.standby.log();
  assert.equal(log.split("\n").filter((l) => l.includes("Successfully acquired lease")).length, 1, "m2 acquired the lease once");
}

/**
 * How often `reason` was recorded about `name`: Events of one manager repeat as a series on one Event
 * (count), a second manager's repeat is an Event of its own, so both add up.
 */
export async function eventCount(ns: string, name: string, reason: string): Promise<number> {
  const out = JSON.parse((await kubectl(["get", "events.events.k8s.io", "-n", ns, "--field-selector", `regarding.name=${name}`, "-o", "json"])).stdout) as {
    items: Array<{ reason?: string; series?: { count?: number } }>;
  };
  return out.items.filter((e) => e.reason === reason).reduce((n, e) => n + (e.series?.count ?? 1), 0);
}
