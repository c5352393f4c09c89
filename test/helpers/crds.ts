/**
 * Installs the committed crds/*.yaml into the test cluster with kubectl, as a user would. (Not through
 * @kubernetes/client-node's typed serializer: it drops x-kubernetes-* schema keys it has no mapping for.)
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../env/paths.ts";
import { testEnv } from "./testenv.ts";

const run = promisify(execFile);

let installed: Promise<void> | undefined;

export function ensureCrds(): Promise<void> {
  installed ??= (async () => {
    const env = testEnv();
    const kubectl = env.local?.kubectl ?? "kubectl";
    const base = ["--kubeconfig", env.kubeconfig];
    // Server-side apply with force: parallel test files applying the same content all succeed.
    await run(kubectl, [...base, "apply", "--server-side", "--force-conflicts", "--field-manager=qdrant-operator-tests", "-f", join(REPO_ROOT, "crds")]);
    await run(kubectl, [...base, "wait", "--for=condition=Established", "--timeout=60s", "-f", join(REPO_ROOT, "crds")]);
  })();
  return installed;
}
