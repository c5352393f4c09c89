import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allPoints, emulatorOnly, startTarget, uniqueName } from "./harness.ts";

describe("storage", () => {
  it("survives a restart with the same data dir, and is gone when the dir is wiped", async (t) => {
    if (emulatorOnly(t, "restarts the server")) return;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emu-persist-test-"));
    try {
      const name = uniqueName("durable");
      const alias = uniqueName("alias");
      let before: unknown[];
      let snapshot: string | undefined;
      {
        const target = await startTarget({ dataDir });
        const client = target.client();
        await client.createCollection(name, { vectors: { size: 2, distance: "Euclid" }, metadata: { keep: true } });
        await client.upsert(name, { points: Array.from({ length: 12 }, (_, i) => ({ id: i, vector: [i, -i], payload: { i } })) });
        await client.delete(name, { points: [0] });
        await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] });
        snapshot = (await client.createSnapshot(name))?.name;
        before = await allPoints(client, name);
        await target.close();
        assert.ok(target.assertAllValid() > 0);
      }
      {
        const target = await startTarget({ dataDir });
        const client = target.client();
        assert.deepEqual(await allPoints(client, alias), before);
        assert.deepEqual((await client.getCollection(name)).config.metadata, { keep: true });
        assert.deepEqual((await client.listSnapshots(name)).map((s) => s.name), [snapshot]);
        await client.upsert(name, { points: [{ id: 100, vector: [1, 1] }] });
        assert.equal((await client.count(name)).count, 12);
        await target.close();
        assert.ok(target.assertAllValid() > 0);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
      {
        const target = await startTarget({ dataDir });
        const client = target.client();
        assert.deepEqual((await client.getCollections()).collections, []);
        assert.deepEqual((await client.getAliases()).aliases, []);
        await target.close();
        assert.ok(target.assertAllValid() > 0);
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("removes a temporary data dir on stop", async (t) => {
    if (emulatorOnly(t, "inspects the emulator's data dir")) return;
    const target = await startTarget();
    const dir = target.emulator?.dataDir ?? "";
    assert.ok(fs.existsSync(dir));
    await target.close();
    assert.ok(!fs.existsSync(dir));
  });
});
