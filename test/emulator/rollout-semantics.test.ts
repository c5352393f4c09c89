/**
 * What a blue/green rollout relies on, on a 3-peer cluster (every answer through the validating proxy),
 * each as Qdrant's source does it (README "Aliases and collection metadata for rollouts"):
 * - one `create_alias` re-points an existing alias, and readers querying through the alias meanwhile
 *   never get an error: every answer comes from blue or from green
 *   (`TableOfContent::update_aliases` holds the collections and alias write locks for the whole list,
 *   `AliasPersistence::insert` overwrites);
 * - `[delete_alias, create_alias]` in one request is not seen half-applied by readers either, but it is
 *   not a transaction: when the create fails, the delete stays applied and the alias is gone;
 * - actions run in order (the last `create_alias` of a name wins);
 * - deleting a collection drops its aliases on every peer (`delete_collection` → `remove_collection`);
 * - collection metadata: given at create, PATCH merges top-level keys (a value replaces the key's whole
 *   value, null removes it), through an alias too, the same on every peer; a PATCH on a collection
 *   without metadata stores the diff as it is (`Collection::update_metadata`).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("rollout semantics: alias switch and collection metadata (3 peers)", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget({ peers: 3 });
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  /** blue holds point 1 with payload {c: "blue"}, green point 1 with {c: "green"}. */
  async function blueGreen(): Promise<{ blue: string; green: string; alias: string }> {
    const client = target.client();
    const [blue, green, alias] = [uniqueName("blue"), uniqueName("green"), uniqueName("prod")];
    for (const name of [blue, green]) {
      await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
      await client.upsert(name, { wait: true, points: [{ id: 1, vector: [1, 0], payload: { c: name === blue ? "blue" : "green" } }] });
    }
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: blue, alias_name: alias } }] });
    return { blue, green, alias };
  }

  /**
   * Queries `alias` from 6 concurrent readers spread over the peers until `work` ends; returns how many
   * answers came from each collection and the errors (as text).
   */
  async function readDuring(alias: string, work: () => Promise<void>): Promise<{ blue: number; green: number; errors: string[] }> {
    const seen = { blue: 0, green: 0, errors: [] as string[] };
    let done = false;
    const reader = async (peer: number): Promise<void> => {
      const client = target.client(peer);
      while (!done) {
        try {
          const r = await client.query(alias, { query: [1, 0], limit: 1, with_payload: true });
          const c = r.points[0]?.payload?.c;
          if (c === "blue") seen.blue++;
          else if (c === "green") seen.green++;
          else seen.errors.push(`unexpected answer ${JSON.stringify(r.points)}`);
        } catch (err) {
          seen.errors.push(err instanceof Error ? err.message : String(err));
        }
      }
    };
    const readers = [1, 2, 3, 1, 2, 3].map(reader);
    try {
      await work();
    } finally {
      done = true;
      await Promise.all(readers);
    }
    return seen;
  }

  it("one create_alias re-points the alias back and forth with readers never failing", async () => {
    const { blue, green, alias } = await blueGreen();
    const client = target.client();
    const seen = await readDuring(alias, async () => {
      for (let i = 0; i < 10; i++) {
        const to = i % 2 === 0 ? green : blue;
        assert.equal(await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: to, alias_name: alias } }] }), true);
        for (const peer of [1, 2, 3]) {
          assert.deepEqual((await target.client(peer).getAliases()).aliases.filter((a) => a.alias_name === alias), [{ alias_name: alias, collection_name: to }]);
        }
      }
    });
    assert.deepEqual(seen.errors, []);
    assert.ok(seen.blue > 0 && seen.green > 0, `answers from both sides: ${JSON.stringify(seen)}`);
  });

  it("[delete_alias, create_alias] in one request is never seen half-applied by readers", async () => {
    const { blue, green, alias } = await blueGreen();
    const client = target.client();
    const seen = await readDuring(alias, async () => {
      for (let i = 0; i < 20; i++) {
        const to = i % 2 === 0 ? green : blue;
        await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: to, alias_name: alias } }] });
      }
    });
    assert.deepEqual(seen.errors, []);
  });

  it("is not a transaction: a failing create_alias after delete_alias leaves the alias gone", async () => {
    const { blue, alias } = await blueGreen();
    const missing = uniqueName("missing");
    const e = await clientError(
      target.client().updateCollectionAliases({ actions: [{ delete_alias: { alias_name: alias } }, { create_alias: { collection_name: missing, alias_name: alias } }] }),
    );
    assert.equal(e.status, 404);
    assert.equal(e.error, `Not found: Collection \`${missing}\` doesn't exist!`);
    for (const peer of [1, 2, 3]) {
      assert.deepEqual((await target.client(peer).getCollectionAliases(blue)).aliases, []);
      const q = await clientError(target.client(peer).query(alias, { query: [1, 0] }));
      assert.equal(q.status, 404);
      assert.equal(q.error, `Not found: Collection \`${alias}\` doesn't exist!`);
    }
  });

  it("runs actions in order: the last create_alias of a name wins", async () => {
    const { blue, green, alias } = await blueGreen();
    await target.client().updateCollectionAliases({
      actions: [
        { create_alias: { collection_name: green, alias_name: alias } },
        { create_alias: { collection_name: blue, alias_name: alias } },
        { create_alias: { collection_name: green, alias_name: alias } },
      ],
    });
    assert.deepEqual((await target.client(3).getCollectionAliases(green)).aliases, [{ alias_name: alias, collection_name: green }]);
    assert.deepEqual((await target.client(2).getCollectionAliases(blue)).aliases, []);
  });

  it("deleting the collection behind an alias drops the alias on every peer", async () => {
    const { blue, green, alias } = await blueGreen();
    const second = uniqueName("second");
    await target.client().updateCollectionAliases({ actions: [{ create_alias: { collection_name: blue, alias_name: second } }] });
    assert.equal(await target.client(2).deleteCollection(blue), true);
    for (const peer of [1, 2, 3]) {
      const names = (await target.client(peer).getAliases()).aliases.map((a) => a.alias_name);
      assert.ok(!names.includes(alias) && !names.includes(second), `peer ${peer} still lists ${alias}/${second}`);
      assert.deepEqual(await target.client(peer).collectionExists(alias), { exists: false });
    }
    // The name is free again: it can point at green.
    await target.client().updateCollectionAliases({ actions: [{ create_alias: { collection_name: green, alias_name: alias } }] });
    assert.equal((await target.client(3).getCollection(alias)).points_count, 1);
  });

  it("keeps metadata given at create and merges PATCHes top-level, on every peer and through an alias", async () => {
    const client = target.client();
    const [name, alias] = [uniqueName("meta"), uniqueName("meta-alias")];
    const owner = { namespace: "ns", name: "r", uid: "u-1" };
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" }, metadata: { owner, copy: { copied: 0, done: false }, keep: "me" } });
    for (const peer of [1, 2, 3]) assert.deepEqual((await target.client(peer).getCollection(name)).config.metadata, { owner, copy: { copied: 0, done: false }, keep: "me" });

    // A nested value is replaced whole (no deep merge): `done` is gone from copy.
    await target.client(2).updateCollection(name, { metadata: { copy: { copied: 256 } } });
    for (const peer of [1, 2, 3]) assert.deepEqual((await target.client(peer).getCollection(name)).config.metadata, { owner, copy: { copied: 256 }, keep: "me" });

    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: name, alias_name: alias } }] });
    await target.client(3).updateCollection(alias, { metadata: { keep: null, added: [1, 2] } });
    for (const peer of [1, 2, 3]) assert.deepEqual((await target.client(peer).getCollection(name)).config.metadata, { owner, copy: { copied: 256 }, added: [1, 2] });

    // An empty diff changes nothing; a PATCH without metadata leaves it alone.
    await client.updateCollection(name, { metadata: {} });
    await client.updateCollection(name, { optimizers_config: { indexing_threshold: 1000 } });
    assert.deepEqual((await client.getCollection(name)).config.metadata, { owner, copy: { copied: 256 }, added: [1, 2] });
  });

  it("stores the first PATCH as it is on a collection created without metadata (nulls kept)", async () => {
    const client = target.client();
    const name = uniqueName("nometa");
    await client.createCollection(name, { vectors: { size: 2, distance: "Cosine" } });
    assert.equal((await client.getCollection(name)).config.metadata, undefined);
    await client.updateCollection(name, { metadata: { a: 1, gone: null } });
    assert.deepEqual((await target.client(2).getCollection(name)).config.metadata, { a: 1, gone: null });
    // From then on it merges: null removes.
    await client.updateCollection(name, { metadata: { gone: null } });
    assert.deepEqual((await target.client(3).getCollection(name)).config.metadata, { a: 1 });
  });
});
