/**
 * Durations as the CRDs write them ("90m", "36h", "30d", "1w2d"): a sequence of <integer><unit> with units
 * s, m, h, d (24 h) and w (7 d). The same grammar as the schema's Duration pattern, so a value the
 * apiserver accepted always parses. Units may repeat and come in any order ("1d12h" == "12h1d"), as
 * the pattern allows. Days are fixed 24-hour spans, not calendar days: retention ages are absolute.
 */

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const WHOLE = /^([0-9]+[smhdw])+$/;
const PART = /([0-9]+)([smhdw])/g;

/**
 * Milliseconds in `text`. Throws a RangeError whose message says what is wrong and what is expected;
 * callers that validate a spec prefix it with the field.
 */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) {
    throw new RangeError(`${JSON.stringify(text)} is not a duration: write numbers with units s, m, h, d or w, e.g. "90m", "36h", "30d" or "1w2d"`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit as string] as number);
  if (!Number.isSafeInteger(total)) throw new RangeError(`${JSON.stringify(text)} is too long a duration`);
  return total;
}

/** The shortest canonical text for `ms` whole seconds ("1w2d", "90m" → "1h30m"); "0s" for zero. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms % 1000 !== 0) throw new RangeError(`${ms} ms is not a whole, non-negative number of seconds`);
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["w", "d", "h", "m", "s"]) {
    const size = UNIT_MS[unit] as number;
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
