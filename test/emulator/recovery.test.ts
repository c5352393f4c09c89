import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  allPoints,
  clientError,
  downloadTo,
  emulatorOnly,
  errorText,
  eventually,
  raw,
  startTarget,
  uniqueName,
  uploadSnapshot,
  type TestTarget,
} from "./harness.ts";

describe("snapshot recovery", () => {
  let target: TestTarget;
  let work: string;
  before(async () => {
    target = await startTarget();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-recover-test-"));
  });
  after(async () => {
    await target.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  /** A collection with varied points, its snapshot (downloaded to `work`) and its content before deletion. */
  async function snapshotted(): Promise<{ name: string; snapshot: string; file: string; checksum: string; points: unknown[]; config: unknown }> {
    const client = target.client();
    const name = uniqueName("rec");
    await client.createCollection(name, { vectors: { size: 3, distance: "Dot" }, hnsw_config: { m: 8 }, metadata: { v: 1 } });
    await client.upsert(name, {
      points: [
        ...Array.from({ length: 30 }, (_, i) => ({ id: i, vector: [i, 1, -i], payload: { i, nested: { tag: `t${i % 4}` } } })),
        { id: "11111111-2222-3333-4444-555555555555", vector: [0.5, 0.25, 0.125], payload: {} },
      ],
    });
    await client.delete(name, { points: [3] });
    const desc = await client.createSnapshot(name);
    assert.ok(desc !== null && desc.checksum !== undefined && desc.checksum !== null);
    const file = path.join(work, desc.name);
    await downloadTo(`${target.url}/collections/${name}/snapshots/${desc.name}`, file);
    return { name, snapshot: desc.name, file, checksum: desc.checksum, points: await allPoints(client, name), config: (await client.getCollection(name)).config };
  }

  it("recovers from an http URL with a checksum: identical points and config", async () => {
    const client = target.client();
    const s = await snapshotted();
    const location = `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}`;
    const copy = uniqueName("copy");
    assert.equal(await client.recoverSnapshot(copy, { location, checksum: s.checksum.toUpperCase() }), true);
    assert.deepEqual(await allPoints(client, copy), s.points);
    assert.deepEqual((await client.getCollection(copy)).config, s.config);
    assert.equal((await client.count(copy)).count, 30);
  });

  it("recovers a deleted collection from an upload; the uploaded file stays, without checksum", async (t) => {
    const client = target.client();
    const s = await snapshotted();
    await client.deleteCollection(s.name);
    const r = await uploadSnapshot(`${target.url}/collections/${s.name}/snapshots/upload?priority=snapshot&checksum=${s.checksum}`, s.file, {
      filename: "uploaded.snapshot",
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((r.json as { result: boolean }).result, true);
    assert.deepEqual(await allPoints(client, s.name), s.points);
    const listed = await client.listSnapshots(s.name);
    const uploaded = listed.find((d) => d.name === "uploaded.snapshot");
    assert.ok(uploaded !== undefined && !("checksum" in uploaded), JSON.stringify(listed));
    if (emulatorOnly(t, "reads the peer's temp directory through the admin API")) return;
    assert.deepEqual((await target.admin?.files(1))?.tmp, []);
  });

  it("recovers from a file:// location inside the snapshots directory", async (t) => {
    if (emulatorOnly(t, "needs the emulator's snapshots path")) return;
    const client = target.client();
    const s = await snapshotted();
    const inside = path.join(target.emulator?.dataDir ?? "", "peer-1", "snapshots", s.name, s.snapshot);
    await client.deleteCollection(s.name);
    assert.equal(await client.recoverSnapshot(s.name, { location: `file://${inside}` }), true);
    assert.deepEqual(await allPoints(client, s.name), s.points);
  });

  it("overwrites the collection an alias points to", async () => {
    const client = target.client();
    const s = await snapshotted();
    const alias = uniqueName("alias");
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: s.name, alias_name: alias } }] });
    await client.upsert(s.name, { points: [{ id: 1000, vector: [1, 1, 1] }] });
    await client.recoverSnapshot(alias, { location: `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}` });
    assert.deepEqual(await allPoints(client, s.name), s.points);
    assert.deepEqual(await client.collectionExists(alias), { exists: true });
  });

  it("answers wait=false recoveries with 202", async () => {
    const client = target.client();
    const s = await snapshotted();
    const copy = uniqueName("async");
    const r = await raw(`${target.url}/collections/${copy}/snapshots/recover?wait=false`, {
      method: "PUT",
      body: JSON.stringify({ location: `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}` }),
    });
    assert.equal(r.status, 202);
    await eventually(async () => (await client.collectionExists(copy)).exists && (await client.count(copy)).count === 30, "the background recovery");
    const up = await uploadSnapshot(`${target.url}/collections/${uniqueName("async-up")}/snapshots/upload?wait=false`, s.file);
    assert.equal(up.status, 202);
  });

  it("refuses a wrong checksum on both paths before creating anything", async () => {
    const client = target.client();
    const s = await snapshotted();
    const wrong = "0".repeat(64);
    const target1 = uniqueName("badsum");
    const e = await clientError(
      client.recoverSnapshot(target1, { location: `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}`, checksum: wrong }),
    );
    assert.equal(e.status, 400);
    assert.equal(e.error, `Wrong input: Snapshot checksum mismatch: expected ${wrong}, got ${s.checksum}`);
    assert.deepEqual(await client.collectionExists(target1), { exists: false });
    const target2 = uniqueName("badsum-up");
    const up = await uploadSnapshot(`${target.url}/collections/${target2}/snapshots/upload?checksum=${wrong}`, s.file);
    assert.equal(up.status, 400);
    assert.equal(errorText(up), `Checksum mismatch: expected ${s.checksum}, actual ${wrong}`);
    assert.deepEqual(await client.collectionExists(target2), { exists: false });
  });

  it("validates the checksum's shape with 422", async () => {
    const s = await snapshotted();
    const short = await raw(`${target.url}/collections/${uniqueName("x")}/snapshots/recover`, {
      method: "PUT",
      body: JSON.stringify({ location: `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}`, checksum: "abc" }),
    });
    assert.equal(short.status, 422);
    assert.match(errorText(short) ?? "", /^Validation error in JSON body: \[checksum: .*invalid_sha256_hash/);
    const nonHex = await uploadSnapshot(`${target.url}/collections/${uniqueName("x")}/snapshots/upload?checksum=${"z".repeat(64)}`, s.file);
    assert.equal(nonHex.status, 422);
    assert.match(errorText(nonHex) ?? "", /^Validation error in query parameters: \[checksum: invalid characters, expected 0-9, a-f, A-F\]/);
  });

  it("fails cleanly on a corrupt or truncated archive and creates no collection", async () => {
    const client = target.client();
    const s = await snapshotted();
    const garbage = path.join(work, "garbage.snapshot");
    fs.writeFileSync(garbage, Buffer.alloc(4096, 7));
    const truncated = path.join(work, "truncated.snapshot");
    const whole = fs.readFileSync(s.file);
    fs.writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    for (const file of [garbage, truncated]) {
      const name = uniqueName("corrupt");
      const r = await uploadSnapshot(`${target.url}/collections/${name}/snapshots/upload`, file);
      assert.equal(r.status, 500, r.text);
      assert.match(errorText(r) ?? "", /^Service internal error: /);
      assert.deepEqual(await client.collectionExists(name), { exists: false });
    }
  });

  it("refuses a snapshot whose vectors do not match an existing collection", async () => {
    const client = target.client();
    const s = await snapshotted();
    const other = uniqueName("other");
    await client.createCollection(other, { vectors: { size: 4, distance: "Dot" } });
    const e = await clientError(client.recoverSnapshot(other, { location: `${target.directPeers[0]}/collections/${s.name}/snapshots/${s.snapshot}` }));
    assert.equal(e.status, 400);
    assert.match(e.error ?? "", /^Wrong input: Snapshot is not compatible with existing collection: Collection vectors: /);
  });

  it("answers bad locations with Qdrant's errors", async (t) => {
    const client = target.client();
    const missingHttp = await clientError(client.recoverSnapshot(uniqueName("x"), { location: `${target.directPeers[0]}/collections/none/snapshots/none.snapshot` }));
    assert.equal(missingHttp.status, 400);
    assert.equal(missingHttp.error, `Wrong input: Failed to download tar from ${target.directPeers[0]}/collections/none/snapshots/none.snapshot: status - 404 Not Found`);
    const s3 = await clientError(client.recoverSnapshot(uniqueName("x"), { location: "s3://bucket/key.snapshot" }));
    assert.equal(s3.status, 400);
    assert.equal(s3.error, "Bad request: URL s3://bucket/key.snapshot with scheme s3 is not supported");
    const relative = await clientError(client.recoverSnapshot(uniqueName("x"), { location: "file://whatever.snapshot" }));
    assert.equal(relative.status, 400);
    assert.equal(relative.error, "Bad request: Invalid snapshot URI, file path must be absolute or on localhost");
    const outside = await clientError(client.recoverSnapshot(uniqueName("x"), { location: "file:///etc/passwd" }));
    assert.equal(outside.status, 403);
    assert.match(outside.error ?? "", /^Forbidden: Snapshot file path must be inside the snapshots directory /);
    if (emulatorOnly(t, "needs the emulator's snapshots path")) return;
    const absent = path.join(target.emulator?.dataDir ?? "", "peer-1", "snapshots", "absent.snapshot");
    const missingFile = await clientError(client.recoverSnapshot(uniqueName("x"), { location: `file://${absent}` }));
    assert.equal(missingFile.status, 400);
    assert.equal(missingFile.error, `Bad request: Snapshot file "${absent}" does not exist`);
  });
});

describe("recover error paths, as Qdrant's source orders them", () => {
  // Each case follows lib/storage/src/content_manager/snapshots/download.rs (`download_snapshot`) and
  // Qdrant's own tests/openapi/test_snapshot.py; README "Recovery errors" lists which are verified.
  let target: TestTarget;
  let work: string;
  before(async () => {
    target = await startTarget();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-recover-errors-"));
  });
  after(async () => {
    await target.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  it("answers a missing absolute file with 400 before asking whether it is inside the snapshots directory", async () => {
    const client = target.client();
    for (const location of ["file:///whatever.snapshot", "file://localhost/whatever.snapshot"]) {
      const e = await clientError(client.recoverSnapshot(uniqueName("x"), { location }));
      assert.equal(e.status, 400, location);
      assert.equal(e.error, 'Bad request: Snapshot file "/whatever.snapshot" does not exist', location);
    }
    const dotHost = await clientError(client.recoverSnapshot(uniqueName("x"), { location: "file://./etc/passwd" }));
    assert.equal(dotHost.status, 400);
    assert.equal(dotHost.error, "Bad request: Invalid snapshot URI, file path must be absolute or on localhost");
  });

  it("refuses a symlink inside the snapshots directory that leads outside it, naming the canonical directory", async (t) => {
    if (emulatorOnly(t, "writes into the emulator's snapshots directory")) return;
    const root = path.join(target.emulator?.dataDir ?? "", "peer-1", "snapshots");
    const outside = path.join(work, "outside.snapshot");
    fs.writeFileSync(outside, "not a snapshot");
    const link = path.join(root, `${uniqueName("link")}.snapshot`);
    fs.symlinkSync(outside, link);
    try {
      const e = await clientError(target.client().recoverSnapshot(uniqueName("x"), { location: `file://${link}` }));
      assert.equal(e.status, 403);
      assert.equal(e.error, `Forbidden: Snapshot file path must be inside the snapshots directory ${JSON.stringify(fs.realpathSync(root))}`);
    } finally {
      fs.rmSync(link);
    }
  });

  it("names the scheme of an unsupported location as the parsed URL prints it", async () => {
    const e = await clientError(target.client().recoverSnapshot(uniqueName("x"), { location: "S3://bucket/key.snapshot" }));
    assert.equal(e.status, 400);
    assert.equal(e.error, "Bad request: URL s3://bucket/key.snapshot with scheme s3 is not supported");
  });

  it("answers an unreachable http location with reqwest's error as a 500", async () => {
    const location = "http://127.0.0.1:1/x.snapshot";
    const e = await clientError(target.client().recoverSnapshot(uniqueName("x"), { location }));
    assert.equal(e.status, 500);
    assert.equal(e.error, `Service internal error: Http request error: error sending request for url (${location})`);
  });

  it("answers bad shard recover locations as src/common/snapshots.rs does, after the shard check", async () => {
    const client = target.client();
    const name = uniqueName("shardrec");
    await client.createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    const recover = (shard: number, location: string) =>
      raw(`${target.url}/collections/${name}/shards/${shard}/snapshots/recover`, { method: "PUT", body: JSON.stringify({ location }) });
    const cases: Array<[number, string, number, string]> = [
      [0, "s3://bucket/key.snapshot", 400, "Wrong input: Invalid snapshot URL s3://bucket/key.snapshot: URLs with s3 scheme are not supported"],
      [0, "file:///etc/passwd", 400, "Wrong input: Invalid snapshot URL file:///etc/passwd: URLs with file scheme are not supported"],
      [0, "../escape.snapshot", 404, "Not found: Snapshot ../escape.snapshot not found"],
      [0, "absent.snapshot", 404, "Not found: Snapshot absent.snapshot not found"],
      [7, "s3://bucket/key.snapshot", 404, "Not found: shard 7 not found"],
    ];
    for (const [shard, location, status, error] of cases) {
      const r = await recover(shard, location);
      assert.deepEqual({ status: r.status, error: errorText(r) }, { status, error }, `${shard} ${location}`);
    }
  });

  it("answers an archive without a collection config (an empty upload) with 400 and creates nothing", async () => {
    const empty = path.join(work, "empty.snapshot");
    fs.writeFileSync(empty, "");
    const name = uniqueName("empty");
    const r = await uploadSnapshot(`${target.url}/collections/${name}/snapshots/upload`, empty);
    assert.equal(r.status, 400, r.text);
    assert.equal(errorText(r), "Wrong input: Snapshot archive does not contain a collection config");
    assert.deepEqual(await target.client().collectionExists(name), { exists: false });
  });
});

describe("recovery from a remote that needs an api key", () => {
  it("sends `api_key` to the remote and reports the remote's refusal otherwise", async (t) => {
    if (emulatorOnly(t, "starts a second server on demand")) return;
    const remote = await startTarget({ apiKey: "remote-key" });
    const local = await startTarget();
    try {
      const rc = remote.client();
      const name = uniqueName("remote");
      await rc.createCollection(name, { vectors: { size: 2, distance: "Dot" } });
      await rc.upsert(name, { points: [{ id: 1, vector: [1, 2], payload: { from: "remote" } }] });
      const desc = await rc.createSnapshot(name);
      const location = `${remote.directPeers[0]}/collections/${name}/snapshots/${desc?.name}`;
      const refused = await clientError(local.client().recoverSnapshot(name, { location }));
      assert.equal(refused.status, 400);
      assert.equal(refused.error, `Wrong input: Failed to download tar from ${location}: status - 401 Unauthorized`);
      assert.deepEqual(await local.client().collectionExists(name), { exists: false });
      assert.equal(await local.client().recoverSnapshot(name, { location, api_key: "remote-key" }), true);
      assert.deepEqual(await allPoints(local.client(), name), await allPoints(rc, name));
    } finally {
      await remote.close();
      await local.close();
    }
    assert.ok(remote.assertAllValid() > 0 && local.assertAllValid() > 0);
  });
});
