/**
 * docs/runbooks/rotate-s3-credentials.md, run block by block against the real manager, MinIO and Qdrant:
 * the location moves to a new Secret holding a new key, its check passes, a backup is written with it,
 * the old Secret is deleted and a second backup still succeeds. The two provider blocks (creating and
 * revoking a key with `mc`) are MinIO admin calls here: the new key is a second MinIO user on the bucket,
 * made by the environment's minio-user (MinIO's own admin client); the old key is not revoked, which
 * no test can observe beyond what step 5 shows (nothing reads the old Secret any more).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { bucketOnlyUser } from "../test/helpers/s3.ts";
import { apply, getJson, world } from "./helpers/backup-world.ts";
import { openRunbook } from "./helpers/runbook.ts";

interface Backup {
  metadata: { name: string };
  status?: { phase?: string };
}

test("runbook: rotate the S3 credentials, every command as written", async (t) => {
  const w = await world(t, "rb-rotate");
  await apply(w.ns, [
    {
      apiVersion: API_VERSION,
      kind: "QdrantBackupSchedule",
      metadata: { name: "policies-nightly" },
      spec: { schedule: "0 2 1 1 *", connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [w.collection] } },
    },
  ]);
  const fresh = await bucketOnlyUser(w.bucket);
  const rb = await openRunbook(t, "rotate-s3-credentials", {
    NS: w.ns,
    LOCATION: "s3",
    SCHEDULE: "policies-nightly",
    NEW_SECRET: "s3-creds-rotated",
    NEW_ACCESS_KEY_ID: fresh.accessKeyId,
    NEW_SECRET_ACCESS_KEY: fresh.secretAccessKey,
  });
  await rb.next(); // the variables
  rb.skipProvider(); // the new key: `fresh`, above
  const step2 = await rb.next();
  assert.match(step2.stdout, /old Secret: s3-creds/);
  await rb.next(); // patch + waits
  const location = await getJson<{ spec: { s3: { credentials: { secretRef: { name: string } } } } }>(w.ns, "qdrantbackuplocation", "s3");
  assert.equal(location?.spec.s3.credentials.secretRef.name, "s3-creds-rotated");
  await rb.next(); // backup now --wait
  const first = await succeededBackups(w.ns);
  assert.equal(first.length, 1, "step 4 made one backup, and it succeeded");
  await rb.next(); // delete the old Secret, back up again
  assert.equal(await getJson(w.ns, "secret", "s3-creds"), undefined, "the old Secret is gone");
  assert.equal((await succeededBackups(w.ns)).length, 2, "a backup succeeds without the old Secret");
  rb.skipProvider(); // revoking the old key
  assert.ok(rb.done(), "every block of the runbook was run or done by its equivalent");
});

async function succeededBackups(ns: string): Promise<string[]> {
  const list = JSON.parse((await kubectl(["get", "qdrantbackups", "-n", ns, "-o", "json"])).stdout) as { items: Backup[] };
  return list.items.filter((b) => b.status?.phase === "Succeeded").map((b) => b.metadata.name);
}
