/** Runs the real promtool (built from test/env/go/prometheus, cached) and returns its exit code and output. */
import { execFile } from "node:child_process";
import { ensurePromtoolBinary } from "../env/build.ts";

export interface PromtoolResult {
  code: number;
  output: string;
}

/** A non-zero exit is a result (a failed check), not an error; failing to start promtool is. */
export async function promtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  const bin = await ensurePromtoolBinary();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : err.code;
      if (typeof code !== "number") return reject(err ?? new Error("promtool did not exit"));
      resolve({ code, output: stdout + stderr });
    });
  });
}
