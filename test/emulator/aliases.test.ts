import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { clientError, errorText, raw, startTarget, uniqueName, type TestTarget } from "./harness.ts";

describe("aliases", () => {
  let target: TestTarget;
  before(async () => {
    target = await startTarget();
  });
  after(async () => {
    await target.close();
    assert.ok(target.assertAllValid() > 0, "no JSON response was checked");
  });

  async function collections(...names: string[]): Promise<void> {
    for (const n of names) await target.client().createCollection(n, { vectors: { size: 2, distance: "Cosine" } });
  }

  it("create_alias re-points an existing alias without error (blue/green)", async () => {
    const client = target.client();
    const [blue, green, prod] = [uniqueName("blue"), uniqueName("green"), uniqueName("prod")];
    await collections(blue, green);
    await client.upsert(green, { points: [{ id: 7, vector: [1, 0] }] });
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: blue, alias_name: prod } }] });
    assert.equal((await client.getCollection(prod)).points_count, 0);
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: green, alias_name: prod } }] });
    assert.equal((await client.getCollection(prod)).points_count, 1);
    assert.deepEqual((await client.getCollectionAliases(green)).aliases, [{ alias_name: prod, collection_name: green }]);
    assert.deepEqual((await client.getCollectionAliases(blue)).aliases, []);
  });

  it("refuses an alias named like a collection (409) and an alias to a missing collection (404)", async () => {
    const client = target.client();
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    await collections(a, b);
    const clash = await clientError(client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: a, alias_name: b } }] }));
    assert.equal(clash.status, 409);
    assert.equal(clash.error, `Wrong input: Collection \`${b}\` already exists!`);
    const missing = await clientError(client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: "nope-missing", alias_name: uniqueName("x") } }] }));
    assert.equal(missing.status, 404);
    assert.equal(missing.error, "Not found: Collection `nope-missing` doesn't exist!");
  });

  it("refuses an alias pointing at another alias", async () => {
    const client = target.client();
    const [c, first, second] = [uniqueName("c"), uniqueName("first"), uniqueName("second")];
    await collections(c);
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: c, alias_name: first } }] });
    const e = await clientError(client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: first, alias_name: second } }] }));
    assert.equal(e.status, 404);
    assert.equal(e.error, `Not found: Collection \`${first}\` doesn't exist!`);
  });

  it("is not transactional: actions before a failing one stay applied", async () => {
    const client = target.client();
    const [c, kept, other] = [uniqueName("c"), uniqueName("kept"), uniqueName("other")];
    await collections(c, other);
    const e = await clientError(
      client.updateCollectionAliases({
        actions: [
          { create_alias: { collection_name: c, alias_name: kept } },
          { create_alias: { collection_name: c, alias_name: other } },
          { create_alias: { collection_name: c, alias_name: uniqueName("never") } },
        ],
      }),
    );
    assert.equal(e.status, 409);
    assert.deepEqual((await client.getCollectionAliases(c)).aliases, [{ alias_name: kept, collection_name: c }]);
  });

  it("renames, deletes silently, and 404s a rename of a missing alias", async () => {
    const client = target.client();
    const [c, a1, a2] = [uniqueName("c"), uniqueName("a1"), uniqueName("a2")];
    await collections(c);
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: c, alias_name: a1 } }] });
    await client.updateCollectionAliases({ actions: [{ rename_alias: { old_alias_name: a1, new_alias_name: a2 } }] });
    assert.deepEqual((await client.getCollectionAliases(c)).aliases, [{ alias_name: a2, collection_name: c }]);
    const e = await clientError(client.updateCollectionAliases({ actions: [{ rename_alias: { old_alias_name: a1, new_alias_name: "x" } }] }));
    assert.equal(e.status, 404);
    assert.equal(e.error, `Not found: Alias ${a1} does not exists!`);
    assert.equal(await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: "never-existed" } }] }), true);
    await client.updateCollectionAliases({ actions: [{ delete_alias: { alias_name: a2 } }] });
    assert.deepEqual((await client.getCollectionAliases(c)).aliases, []);
  });

  it("resolves aliases for reads, writes and exists, but not for delete", async () => {
    const client = target.client();
    const [c, alias] = [uniqueName("c"), uniqueName("alias")];
    await collections(c);
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: c, alias_name: alias } }] });
    await client.upsert(alias, { points: [{ id: 1, vector: [1, 1] }] });
    assert.equal((await client.count(c)).count, 1);
    assert.deepEqual(await client.collectionExists(alias), { exists: true });
    assert.equal(await client.deleteCollection(alias), false);
    assert.deepEqual(await client.collectionExists(c), { exists: true });
  });

  it("refuses a collection named like an alias, and deleting a collection deletes its aliases", async () => {
    const client = target.client();
    const [c, alias] = [uniqueName("c"), uniqueName("alias")];
    await collections(c);
    await client.updateCollectionAliases({ actions: [{ create_alias: { collection_name: c, alias_name: alias } }] });
    const r = await raw(`${target.url}/collections/${alias}`, { method: "PUT", body: JSON.stringify({ vectors: { size: 2, distance: "Cosine" } }) });
    assert.equal(r.status, 400);
    assert.equal(errorText(r), `Wrong input: Can't create collection with name ${alias}. Alias with the same name already exists`);
    await client.deleteCollection(c);
    const all = (await client.getAliases()).aliases;
    assert.ok(!all.some((a) => a.alias_name === alias));
  });

  it("lists all aliases grouped by collection name; an unknown collection lists none", async () => {
    const client = target.client();
    const [x, y] = [`b-${uniqueName("y")}`, `a-${uniqueName("x")}`];
    await collections(x, y);
    await client.updateCollectionAliases({
      actions: [
        { create_alias: { collection_name: x, alias_name: uniqueName("p") } },
        { create_alias: { collection_name: y, alias_name: uniqueName("q") } },
      ],
    });
    const names = (await client.getAliases()).aliases.map((a) => a.collection_name);
    assert.deepEqual(names, [...names].sort());
    assert.deepEqual((await client.getCollectionAliases("does-not-exist")).aliases, []);
  });
});
