/**
 * Calendar periods of an instant, read in a time zone: the buckets of grandfather-father-son retention.
 * "Daily" must mean the schedule's days (a 02:00 Europe/Berlin backup belongs to the Berlin day, not to
 * the UTC day before it), so buckets are computed from local calendar fields through Intl, which knows
 * the IANA rules. Keys are readable strings because they end up in status messages ("keepDaily 2026-01-15").
 */

export type PeriodKind = "hourly" | "daily" | "weekly" | "monthly" | "yearly";

interface LocalFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  /** "+01:00"; distinguishes the two occurrences of a repeated hour at a DST fall-back. */
  offset: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      hourCycle: "h23",
      timeZoneName: "longOffset",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Throws a RangeError for a zone Intl does not know. */
export function checkTimeZone(timeZone: string): void {
  formatter(timeZone);
}

function localFields(t: Date, timeZone: string): LocalFields {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(t)) parts[p.type] = p.value;
  const offset = (parts.timeZoneName ?? "GMT").replace(/^GMT/, "") || "+00:00";
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), offset };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** ISO 8601 week-year and week of a calendar date: weeks start on Monday; week 1 holds the first Thursday. */
export function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const mondayBased = (new Date(date).getUTCDay() + 6) % 7;
  const thursday = new Date(date + (3 - mondayBased) * 86_400_000);
  const weekYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * 86_400_000));
  return { year: weekYear, week };
}

/** The period of `t` in `timeZone`: "2026-01-15T02+01:00", "2026-01-15", "2026-W03", "2026-01", "2026". */
export function periodKey(kind: PeriodKind, t: Date, timeZone: string): string {
  const f = localFields(t, timeZone);
  const date = `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}`;
  switch (kind) {
    case "hourly":
      return `${date}T${pad(f.hour)}${f.offset}`;
    case "daily":
      return date;
    case "weekly": {
      const w = isoWeek(f.year, f.month, f.day);
      return `${pad(w.year, 4)}-W${pad(w.week)}`;
    }
    case "monthly":
      return `${pad(f.year, 4)}-${pad(f.month)}`;
    case "yearly":
      return pad(f.year, 4);
  }
}
