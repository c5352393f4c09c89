/**
 * planRetention over long histories: the "30 synthetic backups spread across a year; the newest
 * good backup survives every policy", and the runbook's tiers over months of hourly backups.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Retention } from "../../src/api/v1alpha1/backup-schedule.ts";
import { planRetention, type RetentionCandidate } from "../../src/backup/retention/plan-retention.ts";

const NOW = new Date("2026-06-15T12:30:00Z");
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const ok = (name: string, startTime: string): RetentionCandidate => ({ name, phase: "Succeeded", startTime, completionTime: startTime });
const failed = (name: string, startTime: string): RetentionCandidate => ({ name, phase: "Failed", startTime });

/** 30 backups spread over the year before NOW, some failed, plus a running one. */
function syntheticYear(): RetentionCandidate[] {
  const out: RetentionCandidate[] = [];
  for (let i = 0; i < 30; i++) {
    // Uneven spacing: denser recently, as a real history after a schedule change would be.
    const age = Math.round(365 * DAY * (i / 29) ** 2) + 2 * HOUR;
    const name = `b${String(i).padStart(2, "0")}`;
    out.push(i % 7 === 3 ? failed(name, ago(age)) : ok(name, ago(age)));
  }
  return out;
}

test("30 synthetic backups across a year: the newest good backup survives every policy", () => {
  const base = syntheticYear();
  const newestGood = "b00";
  const variants: Array<[string, RetentionCandidate[]]> = [
    ["as is", base],
    // The newest backups failed or are running: the newest good one is then older, and still kept.
    ["newest failed", [failed("f-new", ago(HOUR)), failed("f-new2", ago(HOUR / 2)), ...base]],
    ["newest running", [{ name: "r-new", phase: "Running", startTime: ago(HOUR / 4) }, ...base]],
  ];
  const policies: Array<Retention | undefined> = [
    undefined,
    {},
    { keepLast: 1 },
    { keepHourly: 1 },
    { keepDaily: 1 },
    { keepWeekly: 1 },
    { keepMonthly: 1 },
    { keepYearly: 1 },
    { maxAge: "1s" },
    { maxAge: "1h" },
    { maxAge: "1s", failedBackupsToKeep: 0 },
    { failedBackupsToKeep: 0 },
    { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2, maxAge: "90d" },
    { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2 },
  ];
  for (const [variant, backups] of variants) {
    for (const policy of policies) {
      for (const zone of ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]) {
        const plan = planRetention(backups, policy, NOW, zone);
        const label = `${variant} / ${JSON.stringify(policy)} / ${zone}`;
        assert.ok(plan.keep.some((k) => k.name === newestGood), label);
        assert.equal(plan.keep.length + plan.prune.length, backups.length, label);
        for (const b of backups) if (b.phase === "Running") assert.ok(plan.keep.some((k) => k.name === b.name), `${label}: ${b.name}`);
      }
    }
  }
  // The policies do prune: this is not a test that keeps everything.
  assert.equal(planRetention(base, { keepLast: 1, failedBackupsToKeep: 0 }, NOW).keep.length, 1);
  assert.equal(planRetention(base, { keepYearly: 1, failedBackupsToKeep: 0 }, NOW).keep.length, 1);
  // The year touches 2025 and 2026; keepYearly 2 keeps the newest of each. 2026 began 165.5 days before
  // NOW, and b20 (age 365d × (20/29)² + 2h ≈ 173.6 days) is the first to be older.
  assert.deepEqual(
    planRetention(base, { keepYearly: 2, failedBackupsToKeep: 0 }, NOW).keep.map((k) => k.name),
    ["b00", "b20"],
  );
});

test("the runbook tiers over 7½ months of hourly backups", () => {
  // Hourly backups from 2025-11-01T00:00Z to 2026-06-15T12:00Z, and NOW is 12:30.
  const backups: RetentionCandidate[] = [];
  const name = (t: number) => `h-${new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, "")}`;
  for (let t = Date.parse("2025-11-01T00:00:00Z"); t <= Date.parse("2026-06-15T12:00:00Z"); t += HOUR) backups.push(ok(name(t), new Date(t).toISOString()));
  const plan = planRetention(backups, { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2 }, NOW);
  const kept = new Map(plan.keep.map((k) => [k.name, k.reasons]));

  const hourly = [...kept].filter(([, r]) => r.some((x) => x.startsWith("keepHourly"))).map(([n]) => n);
  assert.equal(hourly.length, 24);
  assert.equal(hourly[0], "h-2026061512");
  assert.equal(hourly[23], "h-2026061413");
  const named = (rule: string) =>
    [...kept]
      .filter(([, r]) => r.some((x) => x.startsWith(rule)))
      .map(([n]) => n)
      .sort()
      .reverse();
  assert.deepEqual(named("keepDaily"), ["h-2026061512", "h-2026061423", "h-2026061323", "h-2026061223", "h-2026061123", "h-2026061023", "h-2026060923"]);
  // 2026-06-15 is a Monday: its week, then the weeks ending Sunday 14th, 7th and May 31st.
  assert.deepEqual(named("keepWeekly"), ["h-2026061512", "h-2026061423", "h-2026060723", "h-2026053123"]);
  assert.deepEqual(named("keepMonthly"), ["h-2026061512", "h-2026053123", "h-2026043023", "h-2026033123", "h-2026022823", "h-2026013123"]);
  assert.deepEqual(named("keepYearly"), ["h-2026061512", "h-2025123123"]);
  // 24 hourly + 5 more daily + 2 more weekly + 4 more monthly + 1 more yearly.
  assert.equal(plan.keep.length, 36);
  assert.equal(plan.prune.length, backups.length - 36);
  // An old history: every rule has used its slots before the first backup, which therefore goes.
  assert.ok(plan.prune.some((p) => p.name === "h-2025110100"));
  assert.ok(![...kept.values()].flat().some((r) => r.includes("oldest")));
});

test("the runbook tiers over a young history (2½ days of hourly backups) keep its first backup, as restic ≥ 0.16 does", () => {
  // Hourly backups from 2026-06-13T00:00Z (a Saturday) to 2026-06-15T12:00Z, and NOW is 12:30.
  const backups: RetentionCandidate[] = [];
  const name = (t: number) => `h-${new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, "")}`;
  for (let t = Date.parse("2026-06-13T00:00:00Z"); t <= Date.parse("2026-06-15T12:00:00Z"); t += HOUR) backups.push(ok(name(t), new Date(t).toISOString()));
  const plan = planRetention(backups, { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2 }, NOW);
  const kept = new Map(plan.keep.map((k) => [k.name, k.reasons]));
  // Every period rule has slots left at the first backup, and each keeps it, saying why.
  assert.deepEqual(kept.get("h-2026061300"), [
    "keepDaily 2026-06-13 (oldest backup, slots left)",
    "keepWeekly 2026-W24 (oldest backup, slots left)",
    "keepMonthly 2026-06 (oldest backup, slots left)",
    "keepYearly 2026 (oldest backup, slots left)",
  ]);
  // The rest is as before: 24 hourly (down to the 14th 13:00), the 13th's last as daily; and nothing else.
  assert.deepEqual(
    [...kept.keys()].filter((n) => !n.startsWith("h-202606151") && !n.startsWith("h-202606150") && !n.startsWith("h-20260614")),
    ["h-2026061323", "h-2026061300"],
  );
  assert.equal(plan.keep.length, 26);
  assert.equal(plan.prune.length, backups.length - 26);
});

test("pruning is stable: once what a plan prunes is gone, the next plan keeps the same backups and prunes nothing", () => {
  // Deterministic pseudo-random histories (a linear congruential generator), young and old, dense and sparse.
  let seed = 20260615;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const policies: Retention[] = [
    { keepDaily: 7 },
    { keepHourly: 24, keepDaily: 7, keepWeekly: 4, keepMonthly: 6, keepYearly: 2 },
    { keepLast: 2, keepWeekly: 3, maxAge: "3d" },
    { keepMonthly: 12, failedBackupsToKeep: 0 },
  ];
  let pruning = 0;
  let keepingOldest = 0;
  for (let round = 0; round < 200; round++) {
    const span = (1 + next() * 400) * DAY * (round % 2 === 0 ? 0.02 : 1);
    const backups: RetentionCandidate[] = [];
    for (let i = 0, n = 1 + Math.floor(next() * 40); i < n; i++) {
      const name = `b${String(i).padStart(2, "0")}`;
      backups.push(next() < 0.1 ? failed(name, ago(next() * span)) : ok(name, ago(next() * span)));
    }
    const policy = policies[round % policies.length] as Retention;
    const first = planRetention(backups, policy, NOW);
    const gone = new Set(first.prune.map((p) => p.name));
    if (gone.size > 0) pruning++;
    if (first.keep.some((k) => k.reasons.some((r) => r.includes("oldest backup")))) keepingOldest++;
    const second = planRetention(backups.filter((b) => !gone.has(b.name)), policy, NOW);
    const label = `round ${round} ${JSON.stringify(policy)}`;
    assert.deepEqual(second.prune, [], label);
    assert.deepEqual(second.keep.map((k) => k.name), first.keep.map((k) => k.name), label);
  }
  // Not a vacuous test: many rounds prune, and many keep an oldest backup for a rule with slots left.
  assert.ok(pruning > 50 && keepingOldest > 50, `${pruning} rounds pruned, ${keepingOldest} kept an oldest backup`);
});
