import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "../../src/runtime/clock.ts";
import { LeaderElector, type LeaseLock } from "../../src/runtime/leader-election.ts";
import { MemoryLease } from "./fixtures/memory-lease.ts";
import { captureLogs } from "./fixtures/logs.ts";

interface Candidate {
  elector: LeaderElector;
  lock: LeaseLock & { partitioned: boolean };
  stop: AbortController;
  ended: Promise<string>;
  startedAt: number[];
  stoppedAt: number[];
  leadingSignal: AbortSignal | undefined;
}

function candidate(name: string, lease: MemoryLease, clock: FakeClock): Candidate {
  const lock = lease.lockFor();
  const stop = new AbortController();
  const c: Partial<Candidate> = { lock, stop, startedAt: [], stoppedAt: [] };
  c.elector = new LeaderElector({
    lock,
    identity: name,
    logger: captureLogs().logger,
    clock,
    onStartedLeading: (signal) => {
      c.startedAt!.push(clock.now().getTime());
      c.leadingSignal = signal;
    },
    onStoppedLeading: () => c.stoppedAt!.push(clock.now().getTime()),
  });
  c.ended = c.elector.run(stop.signal);
  return c as Candidate;
}

/** Advances the fake clock in small steps, letting the electors' API calls settle between steps. */
async function elapse(clock: FakeClock, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) await clock.advanceAsync(step);
}

describe("leader election", () => {
  test("the first candidate creates the lease and renews it every retry period", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await elapse(clock, 100);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(a.startedAt.length, 1);
    assert.equal(lease.record?.holderIdentity, "a");
    assert.equal(lease.record?.leaseDurationSeconds, 15);
    await elapse(clock, 10_000);
    assert.ok(lease.writes.length >= 5, `renewed ${lease.writes.length - 1} times in 10 s`);
    a.stop.abort();
    assert.equal(await a.ended, "stopped");
  });

  test("while the leader renews, another candidate stands by", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await elapse(clock, 100);
    const b = candidate("b", lease, clock);
    await elapse(clock, 60_000);
    assert.equal(a.elector.isLeader(), true);
    assert.equal(b.elector.isLeader(), false);
    assert.equal(b.startedAt.length, 0);
    assert.equal(b.elector.observedLeader(), "a");
    a.stop.abort();
    b.stop.abort();
    await Promise.all([a.ended, b.ended]);
  });

  test("a leader that cannot renew stops at the renew deadline, before a successor takes over at the lease duration", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await elapse(clock, 100);
    const b = candidate("b", lease, clock);
    await elapse(clock, 5_000);
    a.lock.partitioned = true; // a can no longer reach the apiserver: it may still be running
    const lastRenewal = clock.now().getTime(); // within one retry period of this
    await elapse(clock, 30_000);
    assert.equal(await a.ended, "lost");
    assert.equal(a.leadingSignal?.aborted, true, "in-flight work is told to stop");
    assert.equal(b.elector.isLeader(), true);
    const aStopped = a.stoppedAt[0]!;
    const bStarted = b.startedAt[0]!;
    assert.ok(aStopped - lastRenewal <= 10_000 + 100, `a stopped ${aStopped - lastRenewal} ms after its last renewal`);
    assert.ok(bStarted > aStopped, "the old leader stopped before the new one started");
    // b measures the lease from when it saw a's last renewal (up to one jittered retry period, 4.4 s, late)
    // and notices expiry on its next attempt (up to another 4.4 s).
    assert.ok(bStarted - lastRenewal >= 13_000 && bStarted - lastRenewal <= 15_000 + 2 * 4_400 + 200, `b took over ${bStarted - lastRenewal} ms after a's last renewal`);
    assert.equal(lease.record?.leaseTransitions, 1);
    b.stop.abort();
    await b.ended;
  });

  test("on stop the leader releases the lease and a successor takes over within one (jittered) retry period", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate("a", lease, clock);
    await elapse(clock, 100);
    const b = candidate("b", lease, clock);
    await elapse(clock, 3_000);
    const writesBefore = lease.writes.length;
    a.stop.abort();
    await elapse(clock, 100);
    assert.equal(await a.ended, "stopped");
    assert.equal(lease.writes[writesBefore]?.holderIdentity, "", "a's last write released the lease");
    const releasedAt = clock.now().getTime();
    // A candidate retries every retryPeriod · (1 + 1.2·jitter): at most 4.4 s with the defaults.
    await elapse(clock, 4_500);
    assert.equal(b.elector.isLeader(), true);
    assert.ok(b.startedAt[0]! - releasedAt <= 4_400 + 100);
    b.stop.abort();
    await b.ended;
  });

  test("candidates racing for a free lease: exactly one wins", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const cs = ["a", "b", "c"].map((n) => candidate(n, lease, clock));
    await elapse(clock, 30_000);
    assert.equal(cs.filter((c) => c.elector.isLeader()).length, 1);
    assert.equal(cs.reduce((n, c) => n + c.startedAt.length, 0), 1);
    for (const c of cs) c.stop.abort();
    await Promise.all(cs.map((c) => c.ended));
  });

  test("renew deadline must be shorter than the lease and longer than the retry period", () => {
    const lock = new MemoryLease().lockFor();
    const base = { lock, identity: "x", logger: captureLogs().logger, onStartedLeading() {}, onStoppedLeading() {} };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline/);
  });
  test("a renewal that hangs, ignoring its abort, ends leadership at the renew deadline after the last renewal began", async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const inner = lease.lockFor();
    let hang = false;
    let unhang: (() => void) | undefined;
    // A renewal that ignores its abort, as a wedged connection might.
    const lock: LeaseLock = {
      describe: () => inner.describe(),
      get: (signal) => inner.get(signal),
      create: (record, signal) => inner.create(record, signal),
      update: (record, rv, signal) => (hang ? new Promise<void>((_resolve, reject) => (unhang = () => reject(new Error("connection reset")))) : inner.update(record, rv, signal)),
    };
    const stop = new AbortController();
    const elector = new LeaderElector({ lock, identity: "a", logger: captureLogs().logger, clock, onStartedLeading: () => {}, onStoppedLeading: () => {} });
    const ended = elector.run(stop.signal);
    await elapse(clock, 4_100);
    assert.equal(elector.holdsLease(), true);
    const renewals = lease.writes.length;
    hang = true;
    const lastRenewal = new Date(lease.record!.renewTime).getTime();
    await elapse(clock, lastRenewal + 9_900 - clock.now().getTime());
    assert.equal(lease.writes.length, renewals, "no renewal since");
    assert.equal(elector.holdsLease(), true, "within the renew deadline");
    await elapse(clock, 200);
    assert.equal(elector.holdsLease(), false, "past the renew deadline");
    assert.equal(elector.isLeader(), false, "the renew loop gave up on its hung request");
    assert.equal(await ended, "lost");
    unhang!();
  });
});
