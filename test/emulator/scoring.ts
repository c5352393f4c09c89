/**
 * Exact (brute-force) vector scoring. Qdrant stores vectors as f32, pre-normalises Cosine vectors at
 * insertion (so Cosine becomes a dot product) and reports distances (Euclid, Manhattan) as scores where
 * smaller is better. Numbers are rounded to f32 and printed in their shortest round-tripping decimal form,
 * which is what Rust's serializer prints for an f32.
 */
export type Distance = "Cosine" | "Euclid" | "Dot" | "Manhattan";
export const DISTANCES: readonly Distance[] = ["Cosine", "Euclid", "Dot", "Manhattan"];

/** Rounds to f32 and returns the shortest decimal that maps back to the same f32. */
export function f32(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let p = 1; p <= 9; p++) {
    const c = Number(f.toPrecision(p));
    if (Math.fround(c) === f) return c;
  }
  return f;
}

/** Converts an input vector to its stored form (f32, unit length for Cosine). */
export function prepareVector(v: number[], distance: Distance): number[] {
  if (distance !== "Cosine") return v.map(f32);
  const rounded = v.map((x) => Math.fround(x));
  const norm = Math.sqrt(rounded.reduce((s, x) => s + x * x, 0));
  // Qdrant leaves a zero vector as is rather than dividing by zero.
  if (norm === 0) return rounded.map(f32);
  return rounded.map((x) => f32(x / norm));
}

export function score(stored: number[], query: number[], distance: Distance): number {
  let acc = 0;
  switch (distance) {
    case "Cosine":
    case "Dot":
      for (let i = 0; i < stored.length; i++) acc += (stored[i] ?? 0) * (query[i] ?? 0);
      return f32(acc);
    case "Euclid":
      for (let i = 0; i < stored.length; i++) {
        const d = (stored[i] ?? 0) - (query[i] ?? 0);
        acc += d * d;
      }
      return f32(Math.sqrt(acc));
    case "Manhattan":
      for (let i = 0; i < stored.length; i++) acc += Math.abs((stored[i] ?? 0) - (query[i] ?? 0));
      return f32(acc);
  }
}

/** For similarity metrics higher scores are better; for distances lower ones are. */
export function higherIsBetter(distance: Distance): boolean {
  return distance === "Cosine" || distance === "Dot";
}

/** `score_threshold` keeps points "better than" the threshold in the metric's own direction. */
export function passesThreshold(s: number, threshold: number, distance: Distance): boolean {
  return higherIsBetter(distance) ? s >= threshold : s <= threshold;
}
