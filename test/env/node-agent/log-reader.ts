/**
 * Reads a CRI-format container log the way the kubelet does for `kubectl logs` (k8s.io/cri-client
 * pkg/logs): tailLines counts records from the end, sinceTime drops older records, timestamps prefixes
 * each line, limitBytes cuts the output, and a stream selection (stdout/stderr) filters records.
 */
import { open } from "node:fs/promises";
import type { ContainerLogWriter, LogStream } from "./container-log.ts";

export interface LogOptions {
  tailLines?: number;
  limitBytes?: number;
  since?: Date;
  timestamps?: boolean;
  follow?: boolean;
  streams?: LogStream[];
}

interface LogRecord {
  time: Date;
  timeText: string;
  stream: LogStream;
  partial: boolean;
  text: string;
}

export function parseRecord(line: string): LogRecord | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP])(?::\S*)? (.*)$/s.exec(line);
  if (!m) return undefined;
  return { time: new Date(m[1]!), timeText: m[1]!, stream: m[2] as LogStream, partial: m[3] === "P", text: m[4]! };
}

/** Formats records for the client, tracking whether the next record starts a new line. */
class Formatter {
  private readonly opts: LogOptions;
  private remaining: number;
  private atLineStart = true;
  constructor(opts: LogOptions) {
    this.opts = opts;
    this.remaining = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }
  get exhausted(): boolean {
    return this.remaining <= 0;
  }
  format(r: LogRecord): string {
    if (this.opts.since && r.time < this.opts.since) return "";
    const wasLineStart = this.atLineStart;
    this.atLineStart = !r.partial;
    if (this.opts.streams && !this.opts.streams.includes(r.stream)) return "";
    let out = (this.opts.timestamps && wasLineStart ? `${r.timeText} ` : "") + r.text + (r.partial ? "" : "\n");
    const bytes = Buffer.byteLength(out);
    if (bytes > this.remaining) out = Buffer.from(out).subarray(0, this.remaining).toString();
    this.remaining -= Math.min(bytes, this.remaining);
    return out;
  }
}

/**
 * Writes the log at `path` to `write` (which resolves once the client took the data). With `follow`
 * and a live `writer`, keeps going until the writer closes or `signal` aborts.
 */
export async function readLog(path: string, opts: LogOptions, write: (chunk: string) => Promise<void>, writer?: ContainerLogWriter, signal?: AbortSignal): Promise<void> {
  const fh = await open(path, "r");
  try {
    const fmt = new Formatter(opts);
    let offset = 0;
    let first = true;
    const aborted = new Promise<void>((resolve) => signal?.addEventListener("abort", () => resolve(), { once: true }));
    for (;;) {
      // Subscribe before reading, so a write landing between the read and the wait is not missed.
      const changed = opts.follow && writer && !writer.closed ? writer.changed() : undefined;
      const { size } = await fh.stat();
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        await fh.read(buf, 0, buf.length, offset);
        const text = buf.toString("utf8");
        const end = text.lastIndexOf("\n") + 1; // only whole records
        offset += Buffer.byteLength(text.slice(0, end));
        let records = text.slice(0, end).split("\n").slice(0, -1);
        if (first && opts.tailLines !== undefined) records = opts.tailLines === 0 ? [] : records.slice(-opts.tailLines);
        first = false;
        let out = "";
        for (const line of records) {
          const rec = parseRecord(line);
          if (rec) out += fmt.format(rec);
          if (fmt.exhausted) break;
        }
        if (out) await write(out);
        if (fmt.exhausted) return;
      }
      first = false;
      if (!changed || signal?.aborted) return;
      await Promise.race([changed, aborted]);
    }
  } finally {
    await fh.close();
  }
}

/**
 * The termination message a kubelet takes from the log for FallbackToLogsOnError: the last 80 lines,
 * at most the last 2 KiB of them.
 */
export async function logTail(path: string): Promise<string> {
  let out = "";
  await readLog(path, { tailLines: 80 }, (chunk) => {
    out += chunk;
    return Promise.resolve();
  }).catch(() => undefined);
  const buf = Buffer.from(out);
  return buf.length > 2048 ? buf.subarray(buf.length - 2048).toString() : out;
}
