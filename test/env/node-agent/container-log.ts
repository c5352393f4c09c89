/**
 * A container's log file in the CRI format a kubelet reads (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`),
 * one file per container instance, plus change notifications so `kubectl logs -f` can follow a running
 * container without polling. "P" marks a partial line (no newline yet when it was cut, or at exit).
 */
import { createWriteStream, mkdirSync, openSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";

/** Lines longer than this are cut into partial records, as containerd does (16 KiB). */
const MAX_LINE = 16 * 1024;

/** RFC3339 with nine fractional digits, the fixed-width form kubelet logs use. */
export function criTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
}

export type LogStream = "stdout" | "stderr";

export class ContainerLogWriter {
  readonly path: string;
  private readonly out: WriteStream;
  private readonly pending: Record<LogStream, string> = { stdout: "", stderr: "" };
  /** A multi-byte character may be split across reads: decode per stream, keeping the tail. */
  private readonly decoders: Record<LogStream, StringDecoder> = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  private waiters: Array<() => void> = [];
  private closedFlag = false;
  private doneFlag = false;
  private readonly finished: Promise<void>;

  constructor(path: string) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    // Opened synchronously: a follower may open the file the moment the container is reported running.
    this.out = createWriteStream(path, { fd: openSync(path, "a") });
    this.finished = new Promise((resolve) => this.out.on("close", resolve));
    this.out.on("error", () => undefined);
  }

  /** True once the last record is on disk: a follower that reads after this has read everything. */
  get closed(): boolean {
    return this.doneFlag;
  }

  write(stream: LogStream, chunk: Buffer | string): void {
    if (this.closedFlag) return;
    let text = this.pending[stream] + (typeof chunk === "string" ? chunk : this.decoders[stream].write(chunk));
    const now = criTimestamp(new Date());
    let records = "";
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      let line = text.slice(0, nl);
      while (line.length > MAX_LINE) {
        records += `${now} ${stream} P ${line.slice(0, MAX_LINE)}\n`;
        line = line.slice(MAX_LINE);
      }
      records += `${now} ${stream} F ${line}\n`;
      text = text.slice(nl + 1);
    }
    while (text.length > MAX_LINE) {
      records += `${now} ${stream} P ${text.slice(0, MAX_LINE)}\n`;
      text = text.slice(MAX_LINE);
    }
    this.pending[stream] = text;
    if (records) this.out.write(records, () => this.notify());
  }

  /** Flushes partial lines and closes the file; followers end once they have read everything. */
  async close(): Promise<void> {
    if (this.closedFlag) return this.finished;
    const now = criTimestamp(new Date());
    let rest = "";
    for (const stream of ["stdout", "stderr"] as const) {
      this.pending[stream] += this.decoders[stream].end();
      if (this.pending[stream]) rest += `${now} ${stream} P ${this.pending[stream]}\n`;
      this.pending[stream] = "";
    }
    this.closedFlag = true;
    if (rest) this.out.write(rest);
    this.out.end();
    await this.finished;
    this.doneFlag = true;
    this.notify();
  }

  /** Resolves on the next write that reached the file, or on close. */
  changed(): Promise<void> {
    if (this.doneFlag) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
