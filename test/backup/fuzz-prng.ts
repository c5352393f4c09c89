/**
 * A small seeded PRNG for the reader fuzzers (test/backup/fuzz-*.test.ts): mulberry32, 32 bits of state,
 * so a seed printed by a failing run (t.diagnostic) replays the very same inputs with FUZZ_SEED=<seed>.
 */
import type { TestContext } from "node:test";

export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p };
}

/** The seed of this run (FUZZ_SEED, else a fresh one), printed so a failure can be replayed. */
export function fuzzSeed(t: TestContext): number {
  const given = process.env.FUZZ_SEED;
  const seed = given !== undefined && given !== "" ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  t.diagnostic(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  return seed;
}
