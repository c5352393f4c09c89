/**
 * Streaming multipart/form-data reader for snapshot uploads. The wanted file part is written straight to
 * disk (hashing as it goes) with the request's own backpressure, so an upload of any size costs a few
 * chunks of memory; the rest of the form is skipped.
 */
import * as fs from "node:fs";
import { once } from "node:events";
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { badRequest } from "./errors.ts";

export interface ReceivedFile {
  file: string;
  /** The client's file name from Content-Disposition, if any. */
  filename: string | undefined;
  sha256: string;
  size: number;
}

function boundaryOf(contentType: string | undefined): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  const b = m?.[1] ?? m?.[2];
  if (b === undefined || !/^multipart\/form-data/i.test(contentType ?? "")) {
    throw badRequest("Content type error: expected multipart/form-data with a boundary");
  }
  return b;
}

function parsePartHeaders(block: string): { name?: string; filename?: string } {
  const out: { name?: string; filename?: string } = {};
  for (const line of block.split("\r\n")) {
    if (!/^content-disposition:/i.test(line)) continue;
    const name = /\bname="([^"]*)"/i.exec(line);
    const filename = /\bfilename="([^"]*)"/i.exec(line);
    if (name?.[1] !== undefined) out.name = name[1];
    if (filename?.[1] !== undefined) out.filename = filename[1];
  }
  return out;
}

/** Receives the file part named `field` into `dest`; undefined if the form had no such part. */
export async function receiveMultipartFile(req: IncomingMessage, field: string, dest: string): Promise<ReceivedFile | undefined> {
  const boundary = boundaryOf(req.headers["content-type"]);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF makes the first boundary look like every other one.
  let buf: Buffer = Buffer.from("\r\n");
  let state: "preamble" | "headers" | "body" = "preamble";
  let finished = false;
  let out: fs.WriteStream | undefined;
  let result: ReceivedFile | undefined;
  const hash = createHash("sha256");
  let size = 0;

  const write = async (data: Buffer): Promise<void> => {
    if (out === undefined || data.length === 0) return;
    hash.update(data);
    size += data.length;
    if (!out.write(data)) await once(out, "drain");
  };

  try {
    const chunks = req as AsyncIterable<Buffer>;
    let ended = false;
    const iterator = chunks[Symbol.asyncIterator]();
    while (!finished) {
      let progressed = true;
      while (progressed && !finished) {
        progressed = false;
        if (state === "preamble") {
          const at = buf.indexOf(delimiter);
          if (at >= 0 && buf.length >= at + delimiter.length + 2) {
            const after = buf.subarray(at + delimiter.length, at + delimiter.length + 2).toString("latin1");
            buf = buf.subarray(at + delimiter.length + 2);
            if (after === "--") finished = true;
            else state = "headers";
            progressed = true;
          } else if (at < 0 && buf.length > delimiter.length) {
            buf = buf.subarray(buf.length - delimiter.length);
          }
        } else if (state === "headers") {
          const end = buf.indexOf("\r\n\r\n");
          if (end >= 0) {
            const headers = parsePartHeaders(buf.subarray(0, end).toString("utf8"));
            buf = buf.subarray(end + 4);
            if (headers.name === field && result === undefined) {
              out = fs.createWriteStream(dest);
              // A client that goes away mid-upload makes us destroy the stream while a write may be in
              // flight; that write's ERR_STREAM_DESTROYED must not be an unhandled 'error' event, which
              // would take the whole emulator (and a test environment running it in-process) down.
              // Errors that matter reach us through the write's 'drain' wait and the request itself.
              out.on("error", () => undefined);
              result = { file: dest, filename: headers.filename, sha256: "", size: 0 };
            }
            state = "body";
            progressed = true;
          } else if (buf.length > 64 * 1024) {
            throw badRequest("Multipart error: part headers too large");
          }
        } else {
          const at = buf.indexOf(delimiter);
          if (at >= 0) {
            await write(buf.subarray(0, at));
            if (out !== undefined) {
              out.end();
              await once(out, "close");
              out = undefined;
            }
            // Back to "preamble" to read the boundary's tail (`--` or CRLF).
            buf = buf.subarray(at);
            state = "preamble";
            progressed = true;
          } else if (buf.length > delimiter.length) {
            // Keep a delimiter's worth of bytes: a boundary may straddle two chunks.
            await write(buf.subarray(0, buf.length - delimiter.length));
            buf = buf.subarray(buf.length - delimiter.length);
          }
        }
      }
      if (finished) break;
      if (ended) throw badRequest("Multipart error: incomplete multipart stream");
      const next = await iterator.next();
      if (next.done === true) ended = true;
      else buf = buf.length === 0 ? next.value : Buffer.concat([buf, next.value]);
    }
    // Drain anything after the closing boundary (epilogue).
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
    }
  } catch (err) {
    if (out !== undefined) {
      out.destroy();
      await fs.promises.rm(dest, { force: true });
    } else if (result !== undefined) {
      await fs.promises.rm(dest, { force: true });
    }
    throw err;
  }
  if (result !== undefined) {
    result.sha256 = hash.digest("hex");
    result.size = size;
  }
  return result;
}
