/**
 * What a restore relies on about the target of a recover (README "Restores"), as Qdrant's
 * `_do_recover_from_snapshot` does it: a missing name is created from the snapshot's config with its payload
 * indexes; an existing compatible collection has its data replaced in place (aliases kept); and the
 * full-storage archive holds every collection's file first, under Qdrant's name, and config.json last.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allPoints, downloadTo, startTarget, uniqueName, uploadSnapshot, type TestTarget } from "./harness.ts";
import { readEntry, readTarEntries } from "./tar.ts";

describe("recover targets", () => {
  let target: TestTarget;
  let work: string;
  before(async () => {
    target = await startTarget();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "emu-recover-targets-"));
  });
  after(async () => {
    await target.close();
    fs.rmSync(work, { recursive: true, force: true });
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function source(points: number): Promise<{ name: string; file: string; location: string }> {
    const client = target.client();
    const name = uniqueName("src");
    await client.createCollection(name, { vectors: { size: 2, distance: "Dot" } });
    await client.createPayloadIndex(name, { field_name: "city", field_schema: "keyword", wait: true });
    await client.upsert(name, { points: Array.from({ length: points }, (_, i) => ({ id: i + 1, vector: [i, 1], payload: { city: `c${i % 3}` } })) });
    const desc = await client.createSnapshot(name);
    const file = path.join(work, desc?.name ?? "x.snapshot");
    await downloadTo(`${target.url}/collections/${name}/snapshots/${desc?.name}`, file);
    return { name, file, location: `${target.directPeers[0]}/collections/${name}/snapshots/${desc?.name}` };
  }

  it("creates a missing name from the snapshot's config, with its payload indexes", async () => {
    const client = target.client();
    const s = await source(9);
    const copy = uniqueName("new");
    assert.equal(await client.recoverSnapshot(copy, { location: s.location }), true);
    const info = await client.getCollection(copy);
    assert.deepEqual(info.config, (await client.getCollection(s.name)).config);
    assert.deepEqual(info.payload_schema.city, { data_type: "keyword", points: 9 });
    assert.deepEqual(await allPoints(client, copy), await allPoints(client, s.name));
  });

  it("replaces an existing compatible collection's data in place, keeping its aliases", async () => {
    const client = target.client();
    const s = await source(5);
    const existing = uniqueName("existing");
    const alias = uniqueName("live");
    await client.createCollection(existing, { vectors: { size: 2, distance: "Dot" } });
    await client.upsert(existing, { points: Array.from({ length: 40 }, (_, i) => ({ id: 100 + i, vector: [1, i], payload: { old: true } })) });
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: existing, alias_name: alias } }] });
    const r = await uploadSnapshot(`${target.url}/collections/${existing}/snapshots/upload?priority=snapshot`, s.file);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await allPoints(client, existing), await allPoints(client, s.name), "only the snapshot's points remain");
    assert.deepEqual((await client.getCollectionAliases(existing)).aliases, [{ alias_name: alias, collection_name: existing }]);
  });

  it("writes a full-storage archive as Qdrant does: each collection's file under its snapshot name, config.json last", async () => {
    const client = target.client();
    const a = await source(2);
    const b = await source(3);
    const desc = await client.createFullSnapshot();
    const file = path.join(work, desc?.name ?? "full.snapshot");
    await downloadTo(`${target.url}/snapshots/${desc?.name}`, file);
    const entries = await readTarEntries(file);
    const last = entries.at(-1);
    assert.ok(last !== undefined && last.name === "config.json", "config.json is the last entry");
    const config = JSON.parse((await readEntry(file, last)).toString("utf8")) as { collections_mapping: Record<string, string> };
    for (const c of [a.name, b.name]) {
      const snapshot = config.collections_mapping[c] ?? "";
      assert.match(snapshot, new RegExp(`^${c}-\\d+-\\d{4}(-\\d{2}){5}\\.snapshot$`));
      assert.ok(entries.some((e) => e.name === snapshot), `${snapshot} is an entry`);
    }
    assert.deepEqual(entries.slice(0, -1).map((e) => e.name).sort(), Object.values(config.collections_mapping).sort(), "every other entry is a collection's file");
    await client.deleteFullSnapshot(desc?.name ?? "");
  });
});
