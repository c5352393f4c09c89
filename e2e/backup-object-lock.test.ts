/**
 * S3 Object Lock end to end (#15), on a lock-enabled MinIO bucket with the location's one-bucket user
 * (whose policy has the lock actions the README lists): a backup's objects are written locked and its
 * status says until when; deleting the QdrantBackup (deletionPolicy Delete) waits "Locked until <date>"
 * while S3 refuses the deletes; once the date has passed (S3's retention shortened as MinIO's root with
 * BypassGovernanceRetention, and a manager whose clock is a day ahead, so the test need not wait a day)
 * every version is deleted and the QdrantBackup goes. Retention the same way: a schedule's keepLast 1
 * keeps the older locked backup, saying "Locked until <date>", and prunes it after the date.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectRetentionCommand } from "@aws-sdk/client-s3";
import { CLOCK_OFFSET_ENV } from "../src/manager/test-clock.ts";
import { kubectl } from "../test/helpers/kubectl.ts";
import { startManager } from "../test/helpers/manager.ts";
import { s3Client } from "../test/helpers/s3.ts";
import { eventually } from "../test/helpers/testenv.ts";
import { API_VERSION } from "../src/api/group.ts";
import { apply, backupObj, condition, getJson, waitForPhase, world, type Backup } from "./helpers/backup-world.ts";

test("a locked backup: written locked, its deletion waits Locked until the date while S3 refuses, then every version goes", async (t) => {
  const w = await world(t, "e2e-object-lock", { lockBucket: true, locationSpec: { objectLock: { mode: "Governance", retainDays: 1 } } });
  await apply(w.ns, [backupObj("locked", { collections: { names: [w.collection] }, deletionPolicy: "Delete" })]);
  const b = (await waitForPhase(w.ns, "locked", "Succeeded", 150_000)) as Backup & { status: { objectLock?: { mode: string; retainUntil: string } } };
  const lock = b.status.objectLock;
  assert.equal(lock?.mode, "Governance");
  assert.ok(Date.parse(lock.retainUntil) > Date.now() + 23 * 3_600_000, `retained for a day: ${lock?.retainUntil}`);
  assert.match(condition(b, "Ready")!.message, /Locked \(Governance\) until /);

  const s3 = s3Client();
  t.after(() => s3.destroy());
  const versions = async () => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: w.bucket, Prefix: "qdrant/e2e/" }));
    return [...(page.Versions ?? []).map((v) => ({ marker: false, v })), ...(page.DeleteMarkers ?? []).map((v) => ({ marker: true, v }))].map(({ marker, v }) => ({ key: v.Key!, versionId: v.VersionId!, deleteMarker: marker }));
  };
  const written = await versions();
  assert.ok(written.some((v) => v.key.endsWith("/manifest.json")) && written.some((v) => v.key.endsWith(".snapshot")), JSON.stringify(written));
  for (const v of written.filter((x) => !x.key.includes("/_pending/") && (x.key.endsWith("/manifest.json") || x.key.endsWith(".snapshot")))) {
    await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: v.key, VersionId: v.versionId })), /WORM|AccessDenied/, `S3 refuses to delete ${v.key}`);
  }

  await kubectl(["delete", "-n", w.ns, "qdrantbackup", "locked", "--wait=false"]);
  const waiting = await eventually("the deletion to wait for the lock", async () => {
    const x = await getJson<Backup>(w.ns, "qdrantbackup", "locked");
    return condition(x, "DataDeleted")?.reason === "Locked" ? x : undefined;
  });
  assert.equal(condition(waiting, "DataDeleted")?.status, "False");
  assert.match(condition(waiting, "DataDeleted")!.message, new RegExp(`Locked until ${lock.retainUntil.replace(/\.\d+Z$/, "")}`));
  assert.deepEqual((await versions()).map((v) => v.versionId).sort(), written.map((v) => v.versionId).sort(), "nothing deleted while locked");

  // After the date: S3's retention is shortened to a few seconds from now (as root: the operator itself
  // never bypasses one), and a manager whose clock is a day ahead takes over, so both S3 and the status's
  // date have passed, as they would tomorrow.
  const soon = new Date(Date.now() + 3_000);
  for (const v of written.filter((x) => !x.deleteMarker)) {
    await s3.send(new PutObjectRetentionCommand({ Bucket: w.bucket, Key: v.key, VersionId: v.versionId, BypassGovernanceRetention: true, Retention: { Mode: "GOVERNANCE", RetainUntilDate: soon } }));
  }
  await w.manager.stop();
  await startManager(t, [w.ns], [], { env: { [CLOCK_OFFSET_ENV]: String(Date.parse(lock.retainUntil) - Date.now() + 60_000) } });
  await eventually("the backup and every version to be gone", async () => ((await getJson(w.ns, "qdrantbackup", "locked")) === undefined && (await versions()).length === 0 ? true : undefined), 120_000);
});

test("retention keeps a locked backup it would prune, says Locked until its date, and prunes it after the date", async (t) => {
  const w = await world(t, "e2e-lock-prune", { lockBucket: true, locationSpec: { objectLock: { mode: "Governance", retainDays: 1 } } });
  // Yearly, so no tick interferes (the manager's clock a day ahead is still in December); keepLast 1.
  await apply(w.ns, [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", metadata: { name: "nightly" }, spec: { connectionRef: { name: "qdrant" }, locationRef: { name: "s3" }, collections: { names: [w.collection] }, schedule: "0 0 1 1 *", retention: { keepLast: 1 } } }]);
  const sched = (await getJson<{ metadata: { uid: string } }>(w.ns, "qdrantbackupschedule", "nightly"))!;
  const owned = (name: string) => {
    const b = backupObj(name, { collections: { names: [w.collection] } }) as { metadata: Record<string, unknown> };
    b.metadata.ownerReferences = [{ apiVersion: API_VERSION, kind: "QdrantBackupSchedule", name: "nightly", uid: sched.metadata.uid, controller: true, blockOwnerDeletion: true }];
    return b;
  };
  await apply(w.ns, [owned("old")]);
  const old = (await waitForPhase(w.ns, "old", "Succeeded", 150_000)) as Backup & { status: { objectLock?: { retainUntil: string } } };
  await apply(w.ns, [owned("new")]);
  await waitForPhase(w.ns, "new", "Succeeded", 150_000);
  const until = old.status.objectLock!.retainUntil.replace(/\.\d+Z$/, "");

  const note = await eventually("a Locked Event for old", async () => {
    const out = JSON.parse((await kubectl(["get", "-n", w.ns, "events.events.k8s.io", "-o", "json"])).stdout) as { items: Array<{ reason: string; note: string; regarding: { name: string } }> };
    return out.items.find((e) => e.regarding.name === "nightly" && e.reason === "Locked")?.note;
  });
  assert.match(note, new RegExp(`^Kept QdrantBackup old, which retention would prune: Locked until ${until}`));
  assert.ok(await getJson(w.ns, "qdrantbackup", "old"), "old is kept while locked");

  const s3 = s3Client();
  t.after(() => s3.destroy());
  const versionsOf = async (backupId: string) => {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: w.bucket, Prefix: "qdrant/e2e/" }));
    return [...(page.Versions ?? []).map((v) => ({ v, marker: false })), ...(page.DeleteMarkers ?? []).map((v) => ({ v, marker: true }))].filter(({ v }) => v.Key!.includes(`/${backupId}/`));
  };
  const oldVersions = await versionsOf(old.status.backupId!);
  assert.ok(oldVersions.length > 0);
  const soon = new Date(Date.now() + 3_000);
  for (const { v } of oldVersions.filter((x) => !x.marker)) {
    await s3.send(new PutObjectRetentionCommand({ Bucket: w.bucket, Key: v.Key!, VersionId: v.VersionId!, BypassGovernanceRetention: true, Retention: { Mode: "GOVERNANCE", RetainUntilDate: soon } }));
  }
  await w.manager.stop();
  await startManager(t, [w.ns], [], { env: { [CLOCK_OFFSET_ENV]: String(Date.parse(old.status.objectLock!.retainUntil) - Date.now() + 60_000) } });
  await eventually("old pruned with every version, new kept", async () => ((await getJson(w.ns, "qdrantbackup", "old")) === undefined && (await versionsOf(old.status.backupId!)).length === 0 ? true : undefined), 120_000);
  assert.ok(await getJson(w.ns, "qdrantbackup", "new"), "the newest is kept");
});
