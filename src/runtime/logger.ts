/**
 * The process logger: pino, JSON by default (what log pipelines parse), or a minimal human format for a
 * terminal. Both go through the same redaction (redact.ts), so switching format cannot leak a secret.
 */
import { Writable } from "node:stream";
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from "pino";
import { REDACT_PATHS, REDACTED, type Redactor } from "./redact.ts";

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Scrubs registered secret values from every line. */
  redactor?: Redactor;
  /** Where lines go; default stdout. Tests pass a collecting stream. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Fields on every line (e.g. { component: "manager" }). */
  base?: Record<string, unknown>;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stdout;
  const destination = opts.format === "pretty" ? prettyStream(out) : out;
  const redactor = opts.redactor;
  return pino(
    {
      level: opts.level ?? "info",
      base: opts.base ?? {},
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      ...(redactor ? { hooks: { streamWrite: (s: string) => redactor.scrub(s) } } : {}),
    },
    destination,
  );
}

const RESERVED = new Set(["time", "level", "msg", "err"]);

/** One line per record: `time LEVEL [controller ns/name] message key=value…`, then an error's stack. */
export function formatPretty(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : line + "\n";
  }
  const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  const where = [rec.controller, rec.namespace && rec.name ? `${str(rec.namespace)}/${str(rec.name)}` : rec.name].filter(Boolean).map(str).join(" ");
  const fields = Object.entries(rec)
    .filter(([k]) => !RESERVED.has(k) && k !== "controller" && k !== "namespace" && k !== "name")
    .map(([k, v]) => `${k}=${str(v)}`);
  let out = `${str(rec.time ?? "")} ${str(rec.level ?? "").toUpperCase().padEnd(5)} ${where ? `[${where}] ` : ""}${str(rec.msg ?? "")}`;
  if (fields.length) out += " " + fields.join(" ");
  const err = rec.err as { message?: unknown; stack?: unknown } | undefined;
  if (err) out += `\n  ${typeof err.stack === "string" ? err.stack.replace(/\n/g, "\n  ") : str(err.message)}`;
  return out + "\n";
}

function prettyStream(out: DestinationStream | NodeJS.WritableStream): Writable {
  let buffered = "";
  return new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      buffered += chunk.toString();
      let i: number;
      while ((i = buffered.indexOf("\n")) >= 0) {
        out.write(formatPretty(buffered.slice(0, i)));
        buffered = buffered.slice(i + 1);
      }
      cb();
    },
  });
}
