/**
 * The name of the QdrantBackup a schedule creates for a tick. The name is the lock: the same schedule and
 * tick always give the same name, so two controllers (or a retry after a lost status write) racing on
 * one tick both try to create the same object and the apiserver lets exactly one win (AlreadyExists).
 * This is how CronJob names its Jobs.
 *
 * Format: `<schedule>-<YYYYMMDD>-<HHMM>`, the tick in UTC, e.g. `nightly-20260115-0200`.
 * - UTC, not the schedule's zone: the two ticks of a repeated local hour (DST fall-back) stay distinct,
 *   and names sort by time across a zone change.
 * - Minute precision: 5-field ticks are whole minutes, so two ticks never share a name.
 * - A DNS-1123 label (≤ 63, [a-z0-9-]) rather than only a subdomain, so the name can also be a label
 *   value and the base of a Job name. A schedule name that is too long for that (over 49 characters) or
 *   has dots is shortened and made unique again with a hash of the full name:
 *   `<first 40 characters, dots as dashes>-<8 hex of sha256(name)>-<YYYYMMDD>-<HHMM>`.
 */
import { boundedLabel } from "../../api/names.ts";

export const MAX_NAME_LENGTH = 63;
const STAMP_LENGTH = "-20260115-0200".length;
const SCHEDULE_PART_MAX = MAX_NAME_LENGTH - STAMP_LENGTH;

export function backupNameFor(scheduleName: string, scheduledTime: Date): string {
  return `${schedulePart(scheduleName)}-${utcStamp(scheduledTime)}`;
}

/** The tick encoded in a name made by backupNameFor, or undefined if the name does not end with one. */
export function scheduledTimeFromName(name: string): Date | undefined {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})$/.exec(name);
  if (m === null) return undefined;
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi));
  // Refuse 20260230 and the like, which Date.UTC would roll over.
  return utcStamp(t) === `${m[1]}${m[2]}${m[3]}-${m[4]}${m[5]}` ? t : undefined;
}

function schedulePart(scheduleName: string): string {
  return boundedLabel(scheduleName, SCHEDULE_PART_MAX);
}

function utcStamp(t: Date): string {
  if (Number.isNaN(t.getTime())) throw new RangeError("scheduled time is not a valid date");
  const iso = t.toISOString(); // 2026-01-15T02:00:00.000Z
  if (iso.length !== 24) throw new RangeError(`scheduled time ${iso} is outside years 0000-9999`);
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}
