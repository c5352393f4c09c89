/** Runs the environment's kubectl (v1.36.3 locally) against the test cluster, as a user would. */
import { execFile } from "node:child_process";
import { testEnv } from "./testenv.ts";

export interface KubectlResult {
  stdout: string;
  stderr: string;
}

/** Resolves with the output; rejects with an Error carrying `stdout` and `stderr` on a non-zero exit. */
export function kubectl(args: string[], input?: string): Promise<KubectlResult> {
  const env = testEnv();
  return new Promise((resolve, reject) => {
    const child = execFile(env.local?.kubectl ?? "kubectl", ["--kubeconfig", env.kubeconfig, ...args], (err, stdout, stderr) =>
      err ? reject(Object.assign(new Error(`kubectl ${args.join(" ")}: ${stderr.trim()}`), { stdout, stderr })) : resolve({ stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}
