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

/** The examples as one multi-document YAML string, ready for `kubectl apply -f -`. */
export async function renderExamples(targets: ExampleTargets): Promise<string> {
  const dir = join(REPO_ROOT, "deploy", "examples");
  const docs: Doc[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), "utf8"))) docs.push(doc.toJS() as Doc);
  }
  for (const obj of docs) {
    if (obj.kind === "QdrantConnection" && obj.spec) obj.spec.url = targets.qdrantUrl;
    if (obj.kind === "QdrantBackupLocation" && obj.spec) Object.assign(obj.spec.s3 as object, { endpoint: targets.s3Endpoint, bucket: targets.bucket });
    if (obj.kind === "Secret" && obj.metadata.name === "backup-s3-credentials") obj.stringData = { AWS_ACCESS_KEY_ID: targets.accessKeyId, AWS_SECRET_ACCESS_KEY: targets.secretAccessKey };
    if (obj.kind === "Secret" && obj.metadata.name === "qdrant-api-key" && targets.qdrantApiKey) obj.stringData = { "api-key": targets.qdrantApiKey };
  }
  return docs.map((d) => stringify(d)).join("---\n");
}
