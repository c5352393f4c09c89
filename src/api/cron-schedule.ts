/**
 * A cron `schedule` field (a QdrantBackupSchedule's, a restore drill's) and the words that explain a bad
 * one. The words are written once, here: src/backup/schedule/parse-schedule.ts says them from the
 * controller, and the CEL rules below say the same from `kubectl apply`, so the user reads "it has 6
 * fields, not 5 (seconds are not supported)" at the moment they apply it, not later in a condition.
 *
 * What CEL checks is the shape (empty, a time zone inside, a nickname, the field count); what only croner
 * can tell (a minute of 61, a date that never comes) stays with the controller, which also checks the
 * shape again for objects stored before these rules (the controller's ajv runs no CEL).
 */
import { Type } from "@sinclair/typebox";
import { cel } from "./schema-helpers.ts";

/** Nicknames a schedule admits, and what they mean (CronJob's list, without @every and @reboot). */
export const NICKNAMES: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** What to write instead; the end of every message about the expression's shape. */
export const CRON_HELP = 'use 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *", or one of @hourly, @daily, @weekly, @monthly, @yearly';

/** Why each shape is refused, without the value (kubectl shows it, the controller prefixes it). */
export const CRON_WORDS = {
  empty: `it is empty; ${CRON_HELP}`,
  every: `@every is not supported: write the interval as a step, e.g. "*/5 * * * *" for every 5 minutes; ${CRON_HELP}`,
  unknownNickname: `unknown nickname; ${CRON_HELP}`,
} as const;

/** Why `TZ=Europe/Berlin 0 2 * * *` is refused; `field` is the time zone field beside the schedule. */
export function timeZoneInside(field: string): string {
  return `a time zone inside the expression is not supported; put it in ${field}`;
}

/** A `TZ=` or `CRON_TZ=` prefix (CronJob refuses it too). Case-insensitive; RE2 and JavaScript alike. */
export const TIME_ZONE_PREFIX = /^(CRON_)?TZ=/i;
/** `@every` followed by its interval, or alone. */
export const EVERY = /^@every(\s|$)/;

/** Field counts the words spell out; more than this reads "more than 9 fields" (CEL cannot print a number cheaply). */
const SPELLED_OUT = 9;

/** How many fields, in words: "1 field", "6 fields", "more than 9 fields". */
export function fieldCount(n: number): string {
  if (n > SPELLED_OUT) return `more than ${SPELLED_OUT} fields`;
  return `${n} field${n === 1 ? "" : "s"}`;
}

const SECONDS = " (seconds are not supported)";

/** Why an expression of `n` (≠ 5) fields is refused. */
export function wrongFieldCount(n: number): string {
  return `it has ${fieldCount(n)}, not 5${n === 6 ? SECONDS : ""}; ${CRON_HELP}`;
}

/** A CEL string literal of `s`. */
function celString(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** The regular expression's source for CEL: RE2 takes `(?i)` where JavaScript takes the `i` flag. */
function celRegex(re: RegExp): string {
  return celString(`${re.flags.includes("i") ? "(?i)" : ""}${re.source}`);
}

/** The CEL rules of a schedule field, one per shape, each firing alone (the later ones skip the earlier shapes). */
function scheduleRules(timeZoneField: string) {
  const t = "self.trim()";
  const tz = `${t}.matches(${celRegex(TIME_ZONE_PREFIX)})`;
  const every = `${t}.matches(${celRegex(EVERY)})`;
  const nicknames = `[${Object.keys(NICKNAMES).map(celString).join(", ")}]`;
  // Repeated where needed: a messageExpression has no cel.bind.
  const fields = String.raw`self.findAll('\\S+').size()`;
  // wrongFieldCount in CEL; the count in words is a list lookup, since string(int) is too costly for a message.
  const words = `[${Array.from({ length: SPELLED_OUT + 1 }, (_, n) => celString(fieldCount(n))).join(", ")}]`;
  const count = `'it has ' + (${fields} <= ${SPELLED_OUT} ? ${words}[${fields}] : ${celString(fieldCount(SPELLED_OUT + 1))}) + ', not 5' + (${fields} == 6 ? ${celString(SECONDS)} : '') + ${celString(`; ${CRON_HELP}`)}`;
  return cel(
    { rule: `${t} != ''`, message: CRON_WORDS.empty },
    { rule: `!${tz}`, message: timeZoneInside(timeZoneField) },
    { rule: `!${every}`, message: CRON_WORDS.every },
    { rule: `!${t}.startsWith('@') || ${every} || ${t} in ${nicknames}`, message: CRON_WORDS.unknownNickname },
    {
      rule: `${t} == '' || ${t}.startsWith('@') || ${tz} || ${fields} == 5`,
      message: wrongFieldCount(SPELLED_OUT + 1),
      messageExpression: count,
    },
  );
}

/**
 * A cron expression field: 5 fields or a nickname, with CEL rules whose messages say what to fix.
 * `timeZoneField` is the path of the time zone beside it, which the messages point to.
 */
export function CronSchedule(description: string, timeZoneField: string) {
  return Type.String({ description, minLength: 1, maxLength: 256, ...scheduleRules(timeZoneField) });
}
