/**
 * Fusion of ranked lists for the Query API's `{"fusion": "rrf" | "dbsf"}` and `{"rrf": {k, weights}}`.
 * Pure functions over `{key, score}` items so they can be table-tested without a server.
 *
 * - RRF follows Qdrant's `rrf_scoring` / `position_score` (lib/segment/src/common/reciprocal_rank_fusion.rs
 *   at the 1.19.0 commit): a point at 0-based position `p` of a list with weight `w` earns
 *   `1 / ((p + 1) / w + k - 1)`, i.e. `1 / (p + k)` unweighted; `k` defaults to 2 (`DEFAULT_RRF_K`); a
 *   weight ≤ 0 earns nothing; contributions add up per point; incoming scores are ignored.
 * - DBSF follows `score_fusion` with `ScoreFusion::dbsf()` (lib/segment/src/common/score_fusion.rs): each
 *   list is normalised with mean ± 3 standard deviations (Welford, sample variance) as 0 and 1 (a single
 *   point gets 0.5, equal extremes give 0.5), then the normalised scores are summed per point.
 * Both sort by fused score, larger first. Qdrant leaves equal scores unordered; the emulator puts them in
 * id order (the caller's `tieBreak`) so its answers are reproducible.
 */
import { f32 } from "./scoring.ts";

export interface Ranked {
  key: string;
  score: number;
}

export const DEFAULT_RRF_K = 2;

export function rrfPositionScore(position: number, k: number, weight: number): number {
  if (weight <= 0) return 0;
  return Math.fround(1 / Math.fround(Math.fround((position + 1) / weight) + k - 1));
}

function sortFused<T extends Ranked>(byKey: Map<string, T>, tieBreak: (a: string, b: string) => number): T[] {
  return [...byKey.values()].map((r) => ({ ...r, score: f32(r.score) })).sort((a, b) => b.score - a.score || tieBreak(a.key, b.key));
}

/** Reciprocal rank fusion of `lists` (each best first). `weights`, when given, has one entry per list. */
export function rrf<T extends Ranked>(lists: T[][], k: number, weights: number[] | undefined, tieBreak: (a: string, b: string) => number): T[] {
  const byKey = new Map<string, T>();
  lists.forEach((list, i) => {
    const weight = weights?.[i] ?? 1;
    list.forEach((item, pos) => {
      const add = rrfPositionScore(pos, k, weight);
      const seen = byKey.get(item.key);
      if (seen === undefined) byKey.set(item.key, { ...item, score: add });
      else seen.score = Math.fround(seen.score + add);
    });
  });
  return sortFused(byKey, tieBreak);
}

/** Scales scores to [0, 1] between mean - 3σ and mean + 3σ (σ from the sample variance). */
export function distributionNormalise(scores: number[]): number[] {
  if (scores.length === 0) return [];
  if (scores.length === 1) return [0.5];
  let mean = 0;
  let aggregate = 0;
  scores.forEach((s, i) => {
    const oldDelta = s - mean;
    mean += oldDelta / (i + 1);
    aggregate += oldDelta * (s - mean);
  });
  const std = Math.sqrt(aggregate / (scores.length - 1));
  const min = mean - 3 * std;
  const max = mean + 3 * std;
  if (min === max) return scores.map(() => 0.5);
  return scores.map((s) => Math.fround((s - min) / (max - min)));
}

/** Distribution-based score fusion of `lists`. */
export function dbsf<T extends Ranked>(lists: T[][], tieBreak: (a: string, b: string) => number): T[] {
  const byKey = new Map<string, T>();
  for (const list of lists) {
    const normalised = distributionNormalise(list.map((r) => r.score));
    list.forEach((item, i) => {
      const add = normalised[i] ?? 0;
      const seen = byKey.get(item.key);
      if (seen === undefined) byKey.set(item.key, { ...item, score: add });
      else seen.score = Math.fround(seen.score + add);
    });
  }
  return sortFused(byKey, tieBreak);
}
