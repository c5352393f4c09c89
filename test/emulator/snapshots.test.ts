import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { downloadTo, emulatorOnly, errorText, eventually, raw, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("collection snapshots: create, list, download, delete", () => {
  let target: TestTarget;
  let work: string;
  before(async () => {
    target = await startTarget();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-snap-test-"));
  });
  after(async () => {
    await target.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function filled(points = 5): Promise<string> {
    const name = uniqueName("snap");
    const client = target.client();
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    await client.upsert(name, { points: Array.from({ length: points }, (_, i) => ({ id: i + 1, vector: [1, i], payload: { i } })) });
    return name;
  }

  it("creates a snapshot named, sized and checksummed as Qdrant does", async () => {
    const client = target.client();
    const name = await filled();
    const desc = await client.createSnapshot(name);
    assert.ok(desc !== null);
    assert.match(desc.name, new RegExp(`^${name}-\\d+-\\d{4}-\\d{2}-\\d{2}-\\d{2}-\\d{2}-\\d{2}\\.snapshot$`));
    assert.match(desc.creation_time ?? "", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    assert.match(desc.checksum ?? "", /^[0-9a-f]{64}$/);
    assert.ok(desc.size > 0);
    assert.deepEqual(await client.listSnapshots(name), [desc]);
    const file = path.join(work, desc.name);
    const dl = await downloadTo(`${target.url}/collections/${name}/snapshots/${desc.name}`, file);
    assert.equal(dl.status, 200);
    assert.equal(dl.sha256, desc.checksum);
    assert.equal(fs.statSync(file).size, desc.size);
    assert.equal(dl.headers.get("content-disposition"), `attachment; filename="${desc.name}"`);
    assert.equal(dl.headers.get("content-type"), "application/octet-stream");
  });

  it("serves byte ranges of a snapshot", async () => {
    const client = target.client();
    const name = await filled();
    const desc = await client.createSnapshot(name);
    assert.ok(desc !== null);
    const whole = Buffer.from(await (await fetch(`${target.url}/collections/${name}/snapshots/${desc.name}`)).arrayBuffer());
    const res = await fetch(`${target.url}/collections/${name}/snapshots/${desc.name}`, { headers: { range: "bytes=100-199" } });
    assert.equal(res.status, 206);
    assert.equal(res.headers.get("content-range"), `bytes 100-199/${desc.size}`);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), whole.subarray(100, 200));
  });

  it("accepts wait=false with a 202 and finishes in the background", async () => {
    const name = await filled();
    const r = await raw(`${target.url}/collections/${name}/snapshots?wait=false`, { method: "POST" });
    assert.equal(r.status, 202);
    assert.deepEqual(Object.keys(r.json as object).sort(), ["status", "time"]);
    assert.equal((r.json as { status: string }).status, "accepted");
    await eventually(async () => (await target.client().listSnapshots(name)).length === 1, "the background snapshot");
  });

  it("deletes a snapshot and its checksum file", async (t) => {
    const client = target.client();
    const name = await filled();
    const desc = await client.createSnapshot(name);
    assert.ok(desc !== null);
    assert.equal(await client.deleteSnapshot(name, desc.name), true);
    assert.deepEqual(await client.listSnapshots(name), []);
    if (emulatorOnly(t, "reads the peer's disk through the admin API")) return;
    const files = await target.admin?.files(1);
    assert.ok(!files?.snapshots.some((f) => f.path.startsWith(`${name}/`)), JSON.stringify(files));
    assert.deepEqual(files?.tmp, []);
  });

  it("answers download errors as text/plain with Qdrant's texts", async () => {
    const name = await filled(1);
    for (const bad of ["nope.snapshot", "..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"]) {
      const r = await raw(`${target.url}/collections/${name}/snapshots/${bad}`);
      assert.equal(r.status, 404, bad);
      assert.match(r.contentType ?? "", /^text\/plain/);
      assert.equal(r.text, `Not found: Snapshot ${decodeURIComponent(bad)} not found`);
    }
    const missing = await raw(`${target.url}/collections/no-such-collection/snapshots/x.snapshot`);
    assert.equal(missing.status, 404);
    assert.equal(missing.text, "Not found: Collection `no-such-collection` doesn't exist!");
    const del = await raw(`${target.url}/collections/${name}/snapshots/nope.snapshot`, { method: "DELETE" });
    assert.equal(del.status, 404);
    assert.equal(errorText(del), "Not found: Snapshot nope.snapshot not found");
    const create = await raw(`${target.url}/collections/no-such-collection/snapshots`, { method: "POST" });
    assert.equal(create.status, 404);
    assert.equal(errorText(create), "Not found: Collection `no-such-collection` doesn't exist!");
  });

  it("resolves an alias in the snapshot routes", async () => {
    const client = target.client();
    const name = await filled(2);
    const alias = uniqueName("alias");
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] });
    const desc = await client.createSnapshot(alias);
    assert.ok(desc?.name.startsWith(`${name}-`));
    assert.equal((await client.listSnapshots(alias)).length, 1);
  });

  it("keeps snapshot files when the collection is deleted; they reappear with a same-named collection", async () => {
    const client = target.client();
    const name = await filled(1);
    const desc = await client.createSnapshot(name);
    await client.deleteCollection(name);
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    assert.deepEqual((await client.listSnapshots(name)).map((s) => s.name), [desc?.name]);
  });

  it("creates, lists, downloads and deletes full-storage snapshots", async () => {
    const client = target.client();
    const name = await filled(2);
    const alias = uniqueName("full-alias");
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] });
    const desc = await client.createFullSnapshot();
    assert.ok(desc !== null);
    assert.match(desc.name, /^full-snapshot-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}\.snapshot$/);
    assert.ok((await client.listFullSnapshots()).some((s) => s.name === desc.name));
    const file = path.join(work, desc.name);
    const dl = await downloadTo(`${target.url}/snapshots/${desc.name}`, file);
    assert.equal(dl.sha256, desc.checksum);
    const text = fs.readFileSync(file).toString("latin1");
    assert.ok(text.includes(`"${alias}":"${name}"`), "config.json carries the aliases");
    assert.equal(await client.deleteFullSnapshot(desc.name), true);
    assert.ok(!(await client.listFullSnapshots()).some((s) => s.name === desc.name));
    const r = await raw(`${target.url}/snapshots/${desc.name}`);
    assert.equal(r.status, 404);
    assert.equal(r.text, `Not found: Snapshot ${desc.name} not found`);
  });
});
