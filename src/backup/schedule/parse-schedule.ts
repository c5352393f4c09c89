/**
 * Reading a QdrantBackupSchedule's `schedule` and `timeZone` into something that can answer "when is the
 * next tick after T?". Cron arithmetic is croner's (a kept library, with IANA time zones); this file only
 * pins down which inputs we accept, so that what the CRD documents (5 fields or a nickname, an IANA zone)
 * is exactly what runs, and turns croner's errors into messages that say what to fix.
 *
 * Choices:
 * - 5 fields only (croner's "5-part" mode): a 6-field expression would silently mean "with seconds"
 *   to croner but "invalid" to Kubernetes' CronJob, and the CRD promises 5 fields.
 * - Day-of-month and day-of-week combine with OR when both are restricted, as in Vixie cron and CronJob.
 * - `TZ=`/`CRON_TZ=` inside the expression is refused with a pointer to spec.timeZone (CronJob does the same).
 * - A time in a daylight-saving gap runs at the first valid time after it; a time that occurs twice
 *   runs once for fixed-time expressions (`30 2 * * *`) and on both occurrences for interval ones
 *   (`*\/30 * * * *`). This is croner's documented rule; backup names carry UTC, so both stay distinct.
 * - An expression that never fires (`0 0 30 2 *`) is refused: a schedule that never runs is a mistake.
 */
import { Cron } from "croner";
import { CRON_HELP, CRON_WORDS, EVERY, NICKNAMES, TIME_ZONE_PREFIX, timeZoneInside, wrongFieldCount } from "../../api/cron-schedule.ts";

export interface ScheduleProblem {
  field: "spec.schedule" | "spec.timeZone";
  message: string;
}

/**
 * A schedule that passed parseSchedule. Immutable; share it freely. It holds no croner object: each Cron
 * keeps a table of every year it could fire in (10,000 entries, ~81 KiB), so one per cached schedule was
 * 78 MiB of the manager's heap at 1,000 schedules. {@link nextScheduleTime} takes one from a small shared
 * cache instead (same pattern and zone, same Cron), and builds one again (~0.1–0.2 ms) when it was evicted.
 */
export interface ParsedSchedule {
  /** The expression as given (trimmed). */
  readonly expression: string;
  /** The IANA zone the expression is read in; "UTC" when none was given. */
  readonly timeZone: string;
  /** What croner reads: the five fields, a nickname spelled out. */
  readonly pattern: string;
}

export type ParseScheduleResult = { ok: true; schedule: ParsedSchedule } | { ok: false; problem: ScheduleProblem };

/** Same shape the CRD enforces: an IANA name, not an offset such as +01:00. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** Any instant works: a 5-field expression that fires at all fires within 28 years of any date. */
const FIRES_CHECK_FROM = new Date(Date.UTC(2000, 0, 1));

/** Checks `schedule` (and `timeZone`, default UTC) and returns a ParsedSchedule or the first problem. */
export function parseSchedule(schedule: string, timeZone?: string): ParseScheduleResult {
  const zone = checkTimeZone(timeZone);
  if (typeof zone !== "string") return { ok: false, problem: zone };

  const expression = schedule.trim();
  const shown = JSON.stringify(schedule);
  const bad = (why: string): ParseScheduleResult => ({ ok: false, problem: { field: "spec.schedule", message: `${shown} is not a valid schedule: ${why}` } });

  if (expression === "") return bad(CRON_WORDS.empty);
  if (TIME_ZONE_PREFIX.test(expression)) return bad(timeZoneInside("spec.timeZone"));
  let pattern: string;
  if (expression.startsWith("@")) {
    if (EVERY.test(expression)) return bad(CRON_WORDS.every);
    const meaning = NICKNAMES[expression];
    if (meaning === undefined) return bad(CRON_WORDS.unknownNickname);
    pattern = meaning;
  } else {
    const fields = expression.split(/\s+/);
    if (fields.length !== 5) return bad(wrongFieldCount(fields.length));
    pattern = fields.join(" ");
  }

  const parsed: ParsedSchedule = { expression, timeZone: zone, pattern };
  let cron: Cron;
  try {
    cron = cronOf(parsed);
  } catch (err) {
    return bad(`${cronMessage(err)}; ${CRON_HELP}`);
  }
  if (cron.nextRun(FIRES_CHECK_FROM) === null) return bad("it never fires (no such date, e.g. February 30)");
  return { ok: true, schedule: parsed };
}

/** How many Crons {@link cronOf} keeps (at ~81 KiB each: ~5 MiB at most). */
export const CRON_CACHE_SIZE = 64;
const crons = new Map<string, Cron>();

/**
 * The Cron of `parsed`'s pattern and zone, shared by every schedule with the same two (most use a few
 * expressions), least recently used dropped first; throws croner's error for a pattern it refuses. The
 * one just asked for is the most recent, so the calls of one reconcile find it even when more distinct
 * expressions than the cache holds take turns.
 */
function cronOf(parsed: ParsedSchedule): Cron {
  const key = `${parsed.pattern}\u0000${parsed.timeZone}`;
  let cron = crons.get(key);
  if (cron !== undefined) {
    crons.delete(key);
  } else {
    // UTC as a fixed offset: same ticks, and croner then does plain arithmetic instead of ~10× slower Intl calls.
    const where = isUtc(parsed.timeZone) ? { utcOffset: 0 } : { timezone: parsed.timeZone };
    cron = new Cron(parsed.pattern, { mode: "5-part", ...where, paused: true });
    if (crons.size >= CRON_CACHE_SIZE) crons.delete(crons.keys().next().value!);
  }
  crons.set(key, cron);
  return cron;
}

/** How many Crons are cached now (for tests). */
export function cachedCronCount(): number {
  return crons.size;
}

/**
 * The first tick strictly after `after`. Ticks are whole minutes. Throws only when croner finds none,
 * which for a schedule accepted by parseSchedule happens only centuries ahead (croner stops near the
 * year 3000).
 */
export function nextScheduleTime(parsed: ParsedSchedule, after: Date): Date {
  const next = cronOf(parsed).nextRun(after);
  if (next === null) throw new RangeError(`schedule ${JSON.stringify(parsed.expression)} has no tick after ${after.toISOString()}`);
  return next;
}

/** The zone name, or the problem with it. Empty or absent means UTC, as for CronJob. */
function checkTimeZone(timeZone: string | undefined): string | ScheduleProblem {
  if (timeZone === undefined || timeZone === "") return "UTC";
  const unknown = (): ScheduleProblem => ({
    field: "spec.timeZone",
    message: `unknown time zone ${JSON.stringify(timeZone)}: use an IANA name such as "Europe/Berlin", "America/New_York" or "UTC"`,
  });
  if (!ZONE_NAME.test(timeZone)) return unknown();
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    return unknown();
  }
  return timeZone;
}

/** Per zone name, whether it is UTC; the names are checked ones (a few hundred exist), so the map stays small. */
const utcZones = new Map<string, boolean>();
function isUtc(zone: string): boolean {
  let utc = utcZones.get(zone);
  if (utc === undefined) utcZones.set(zone, (utc = new Intl.DateTimeFormat("en-US", { timeZone: zone }).resolvedOptions().timeZone === "UTC"));
  return utc;
}

/** croner counts a seconds field first; users count from the minute. */
const FIELD_NAMES = ["second", "minute", "hour", "day-of-month", "month", "day-of-week"];

/** croner's message in the user's terms: no class-name prefix, fields by name, no final period. */
function cronMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text
    .replace(/^Cron(Pattern|Date)?:\s*/, "")
    .replace(/configuration entry (\d) \((.*)\) contains illegal characters/, (_m, i: string, value: string) => `the ${FIELD_NAMES[Number(i)] ?? "a"} field "${value}" has characters that are not allowed`)
    .replace(/\.$/, "");
}
