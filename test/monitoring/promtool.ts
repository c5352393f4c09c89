/** Runs the real promtool (built from test/env/go/prometheus, cached) and returns its exit code and output. */
import { execFile } from "node:child_process";
import { ensurePromtoolBinary } from "../env/build.ts";

export interface PromtoolResult {
  code: number;
  output: string;
}

export async function promtool(args: string[], cwd?: string): Promise<PromtoolResult> {
  const bin = await ensurePromtoolBinary();
  return new Promise((resolve, reject) => {
    execFile(bin, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? (err as unknown as { code: number }).code : -1;
      if (code === -1) return reject(err);
      resolve({ code, output: stdout + stderr });
    });
  });
}
