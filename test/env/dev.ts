/**
 * `npm run dev`, the embedded default: the test environment plus the operator running against it, with
 * the CRDs installed, an example collection in Qdrant, a bucket with a one-bucket user in MinIO, and
 * deploy/examples applied (pointed at those). The Qdrant emulator requires the API key the example
 * Secret holds, so the example connection authenticates as against a real deployment and a wrong or
 * missing key is refused. With the examples' manual backup of `policies` done, the IfMissing restore
 * watches it (delete the collection and it comes back) and the drill restores it into a temporary
 * collection every minute, verifies and deletes it. The rollout example finds policies_v1 behind the alias
 * policies_production, builds policies_v2 with a new config, copies the points, gates it and switches the
 * alias. Ctrl-C stops the manager and then everything else.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { startEnvironment, type EnvironmentInfo } from "./environment.ts";
import { exampleQdrantApiKey, renderExamples } from "./examples.ts";
import { createBucketUser } from "./minio.ts";
import { REPO_ROOT } from "./paths.ts";
import { startProcess, waitUntilReady } from "./proc.ts";
import { MANAGER_NODE_FLAGS } from "../../src/manager/node-flags.ts";

const NAMESPACE = "default";
const BUCKET = "qdrant-backups";

async function kubectl(info: EnvironmentInfo, args: string[], input?: string): Promise<string> {
  const bin = info.local?.kubectl ?? "kubectl";
  const child = execFile(bin, ["--kubeconfig", info.kubeconfig, ...args]);
  if (input !== undefined) child.stdin!.end(input);
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`kubectl ${args.join(" ")}: ${err.trim()}`);
  return out;
}

/**
 * A small collection so there is something to back up (`policies`: 4-dimensional vectors of a few
 * policies), and the same points as `policies_v1` behind the alias `policies_production`, which the
 * rollout example (05-rollout.yaml) rolls out to `policies_v2`.
 */
async function seedQdrant(url: string, apiKey: string | undefined): Promise<void> {
  const headers = { "content-type": "application/json", ...(apiKey === undefined ? {} : { "api-key": apiKey }) };
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  await call("PUT", "/collections/policies", { vectors: { size: 4, distance: "Cosine" } });
  const points = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, vector: [Math.sin(i), Math.cos(i), i / 20, 1], payload: { title: `policy ${i + 1}` } }));
  await call("PUT", "/collections/policies/points?wait=true", { points });
  await call("PUT", "/collections/policies_v1", { vectors: { size: 4, distance: "Cosine" } });
  await call("PUT", "/collections/policies_v1/points?wait=true", { points });
  await call("POST", "/collections/aliases", { actions: [{ create_alias: { collection_name: "policies_v1", alias_name: "policies_production" } }] });
}

export async function dev(): Promise<void> {
  const env = await startEnvironment({ qdrantApiKey: await exampleQdrantApiKey() });
  const { info } = env;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write("\ndev: stopping the manager and the environment\n");
    await manager?.stop(35_000);
    await env.stop();
  };
  let manager: ReturnType<typeof startProcess> | undefined;
  try {
    await kubectl(info, ["apply", "--server-side", "-f", join(REPO_ROOT, "crds")]);
    await kubectl(info, ["wait", "--for=condition=Established", "-f", join(REPO_ROOT, "crds")]);
    if (info.qdrant) await seedQdrant(info.qdrant.url, info.qdrant.apiKey);
    const s3 = new S3Client({ endpoint: info.s3.endpoint, region: info.s3.region, forcePathStyle: true, credentials: info.s3 });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((err: Error) => {
      if (err.name !== "BucketAlreadyOwnedByYou") throw err;
    });
    s3.destroy();
    const creds = info.local?.minioUser ? await createBucketUser(info.local.minioUser, info.s3, BUCKET) : info.s3;
    const runDir = info.local?.runDir ?? REPO_ROOT;
    manager = startProcess({
      name: "manager",
      command: process.execPath,
      args: [...MANAGER_NODE_FLAGS, join(REPO_ROOT, "src", "main.ts"), "manager", "--leader-elect=false", "--http-address=127.0.0.1:0", `--kubeconfig=${info.kubeconfig}`],
      runDir,
      env: { ...process.env, LOG_FORMAT: "pretty" },
    });
    info.logs.manager = manager.logPath;
    await waitUntilReady(manager, "the manager's first log line", async () => (await readFile(manager!.logPath, "utf8").catch(() => "")).includes("Starting manager"));
    const manifests = await renderExamples({
      qdrantUrl: info.qdrant?.url ?? "http://127.0.0.1:6333",
      qdrantApiKey: info.qdrant?.apiKey,
      s3Endpoint: info.s3.endpoint,
      bucket: BUCKET,
      ...creds,
    });
    await kubectl(info, ["apply", "-n", NAMESPACE, "-f", "-"], manifests);
  } catch (err) {
    await stop();
    throw err;
  }
  const kubectlBin = info.local?.kubectl ?? "kubectl";
  const curlKey = info.qdrant?.apiKey === undefined ? "" : `-H 'api-key: ${info.qdrant.apiKey}' `;
  console.log(JSON.stringify(info, null, 2));
  console.log(`
The operator runs against a local control plane, MinIO and the Qdrant emulator; deploy/examples is applied.
In another shell:
  export KUBECONFIG=${info.kubeconfig}
  ${kubectlBin} get qdrant -o wide                  # every kind of ours, with Ready and Reason
  ${kubectlBin} get qbs -w                          # the example backup schedule
  ${kubectlBin} describe qconn qdrant               # the connection's peers and version
  ${kubectlBin} get qr -o wide -w                   # the restores: policies-if-missing Watching, policies-drill verified every minute
  ${kubectlBin} get collectionrollout -o wide -w    # policies-v2: policies_production switched from policies_v1 to policies_v2
  curl ${curlKey}${info.qdrant?.url ?? "<qdrant>"}/aliases  # where policies_production points
  curl ${curlKey}${info.qdrant?.url ?? "<qdrant>"}/collections  # the example collections (a request without the key gets 401)
  curl -X DELETE ${curlKey}${info.qdrant?.url ?? "<qdrant>"}/collections/policies  # and within ~30 s policies-if-missing restores it
  tail -f ${info.logs.manager}                      # the operator's log
Ctrl-C stops everything and removes its temp dirs.`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
    void manager.exited.then(() => {
      if (!stopping) process.stderr.write(`dev: the manager exited; see ${manager.logPath}\n`);
      resolve();
    });
  });
  await stop();
}
