/** deploy/examples, pointed at a given Qdrant and bucket (for `npm run dev` and the end-to-end tests). */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { REPO_ROOT } from "./paths.ts";

export interface ExampleTargets {
  qdrantUrl: string;
  qdrantApiKey?: string;
  s3Endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

interface Doc {
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  stringData?: Record<string, string>;
}

const API_KEY_SECRET = "qdrant-api-key";

/** Every document of deploy/examples, in file order. */
async function loadExamples(): Promise<Doc[]> {
  const dir = join(REPO_ROOT, "deploy", "examples");
  const docs: Doc[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) docs.push(doc.toJS() as Doc);
  }
  return docs;
}

/**
 * The API key the example Secret holds: `npm run dev` starts the emulator requiring it, so the example
 * connection authenticates as against a real Qdrant and a wrong key is refused.
 */
export async function exampleQdrantApiKey(): Promise<string> {
  const secret = (await loadExamples()).find((d) => d.kind === "Secret" && d.metadata.name === API_KEY_SECRET);
  const key = secret?.stringData?.["api-key"];
  if (!key) throw new Error(`deploy/examples has no Secret ${API_KEY_SECRET} with stringData.api-key`);
  return key;
}

/** The examples as one multi-document YAML string, ready for `kubectl apply -f -`. */
export async function renderExamples(targets: ExampleTargets): Promise<string> {
  const docs = await loadExamples();
  for (const obj of docs) {
    if (obj.kind === "QdrantConnection" && obj.spec) obj.spec.url = targets.qdrantUrl;
    if (obj.kind === "QdrantBackupLocation" && obj.spec) Object.assign(obj.spec.s3 as object, { endpoint: targets.s3Endpoint, bucket: targets.bucket });
    if (obj.kind === "Secret" && obj.metadata.name === "backup-s3-credentials") obj.stringData = { AWS_ACCESS_KEY_ID: targets.accessKeyId, AWS_SECRET_ACCESS_KEY: targets.secretAccessKey };
    if (obj.kind === "Secret" && obj.metadata.name === API_KEY_SECRET && targets.qdrantApiKey) obj.stringData = { "api-key": targets.qdrantApiKey };
  }
  return docs.map((d) => stringify(d)).join("---\n");
}
