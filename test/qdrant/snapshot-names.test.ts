/**
 * The pure rule an intent is resolved with (src/qdrant/snapshot-names.ts): which listed snapshots a
 * killed create may have made. A table: Qdrant's name formats (whole seconds, milliseconds, a numeric
 * suffix), the window's edges (notBefore − 30 s, until + 30 s), other collections' and peers' names,
 * names a person chose, several candidates, and snapshots a marker names left out.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { intentCandidates, snapshotNameTime } from "../../src/qdrant/snapshot-names.ts";

const docs = { collection: "docs" };
const full = { fullStorage: true as const };

test("snapshotNameTime reads Qdrant's names of the scope and peer, and nothing else", () => {
  const cases: Array<[string, { collection: string } | { fullStorage: true }, string, string | undefined]> = [
    ["docs-7-2026-01-15-02-00-05.snapshot", docs, "7", "2026-01-15T02:00:05.000Z"],
    ["docs-7-2026-01-15-02-00-05-123.snapshot", docs, "7", "2026-01-15T02:00:05.123Z"],
    ["docs-7-2026-01-15-02-00-05-123-1.snapshot", docs, "7", "2026-01-15T02:00:05.123Z"],
    ["docs-7-2026-01-15-02-00-05-123-12.snapshot", docs, "7", "2026-01-15T02:00:05.123Z"],
    ["my-docs-7-2026-01-15-02-00-05.snapshot", { collection: "my-docs" }, "7", "2026-01-15T02:00:05.000Z"],
    ["full-snapshot-2026-01-15-02-00-05.snapshot", full, "7", "2026-01-15T02:00:05.000Z"],
    ["full-snapshot-2026-01-15-02-00-05-009.snapshot", full, "7", "2026-01-15T02:00:05.009Z"],
    // Another peer, another collection, another scope.
    ["docs-8-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["docs-77-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["docs2-7-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["my-docs-7-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["docs-7-2026-01-15-02-00-05.snapshot", full, "7", undefined],
    ["full-snapshot-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["docs-shard-0-2026-01-15-02-00-05.snapshot", docs, "7", undefined],
    // Not Qdrant's: a person's name, an upload, a stamp that is not a time.
    ["docs-7-before-migration.snapshot", docs, "7", undefined],
    ["docs-7-2026-01-15-02-00-05.snapshot.checksum", docs, "7", undefined],
    ["docs-7-2026-01-15-02-00-05", docs, "7", undefined],
    ["docs-7-2026-01-15-02-00-05-1234567890123.snapshot", docs, "7", undefined],
    ["docs-7-2026-02-30-02-00-05.snapshot", docs, "7", undefined],
    ["docs-7-2026-01-15-24-00-05.snapshot", docs, "7", undefined],
    ["docs-7-0050-01-15-02-00-05.snapshot", docs, "7", undefined],
    ["docs-7-2026-1-15-02-00-05.snapshot", docs, "7", undefined],
  ];
  for (const [name, scope, peerId, want] of cases) assert.equal(snapshotNameTime(name, scope, peerId)?.toISOString(), want, name);
});

test("intentCandidates: the scope's Qdrant-made names in [notBefore − 30 s, until + 30 s], markers' left out", () => {
  const notBefore = new Date("2026-01-15T02:00:05.600Z");
  const until = new Date("2026-01-15T02:10:00.000Z");
  const w = { scope: docs, peerId: "7", notBefore, until };
  const none = new Set<string>();
  const cases: Array<[string, string[], Set<string>, string[]]> = [
    ["the one made in the window", ["docs-7-2026-01-15-02-00-05.snapshot"], none, ["docs-7-2026-01-15-02-00-05.snapshot"]],
    ["with milliseconds and a suffix", ["docs-7-2026-01-15-02-00-06-002-1.snapshot"], none, ["docs-7-2026-01-15-02-00-06-002-1.snapshot"]],
    ["the lower edge (notBefore − 30 s) is in", ["docs-7-2026-01-15-01-59-35-600.snapshot"], none, ["docs-7-2026-01-15-01-59-35-600.snapshot"]],
    ["a millisecond before it is out", ["docs-7-2026-01-15-01-59-35-599.snapshot"], none, []],
    ["whole seconds: 01-59-35 is before notBefore − 30 s", ["docs-7-2026-01-15-01-59-35.snapshot"], none, []],
    ["the upper edge (until + 30 s) is in", ["docs-7-2026-01-15-02-10-30.snapshot"], none, ["docs-7-2026-01-15-02-10-30.snapshot"]],
    ["a millisecond after it is out", ["docs-7-2026-01-15-02-10-30-001.snapshot"], none, []],
    ["a day earlier: a person's old snapshot", ["docs-7-2026-01-14-02-00-05.snapshot"], none, []],
    ["other peers, collections and names", ["docs-8-2026-01-15-02-00-05.snapshot", "docs2-7-2026-01-15-02-00-05.snapshot", "mine.snapshot", "full-snapshot-2026-01-15-02-00-05.snapshot"], none, []],
    ["several: all returned, sorted", ["docs-7-2026-01-15-02-03-00.snapshot", "docs-7-2026-01-15-02-00-05.snapshot"], none, ["docs-7-2026-01-15-02-00-05.snapshot", "docs-7-2026-01-15-02-03-00.snapshot"]],
    ["a listed twice name counts once", ["docs-7-2026-01-15-02-00-05.snapshot", "docs-7-2026-01-15-02-00-05.snapshot"], none, ["docs-7-2026-01-15-02-00-05.snapshot"]],
    ["a marker's snapshot is left out", ["docs-7-2026-01-15-02-00-05.snapshot", "docs-7-2026-01-15-02-00-09.snapshot"], new Set(["docs-7-2026-01-15-02-00-09.snapshot"]), ["docs-7-2026-01-15-02-00-05.snapshot"]],
    ["only a marker's: none", ["docs-7-2026-01-15-02-00-09.snapshot"], new Set(["docs-7-2026-01-15-02-00-09.snapshot"]), []],
    ["nothing listed", [], none, []],
  ];
  for (const [what, listed, marked, want] of cases) assert.deepEqual(intentCandidates(w, listed, marked), want, what);
});

test("intentCandidates of the full storage: full-snapshot names of any peer (each peer lists its own)", () => {
  const w = { scope: full, peerId: "7", notBefore: new Date("2026-01-15T02:00:05Z"), until: new Date("2026-01-15T02:00:20Z") };
  assert.deepEqual(intentCandidates(w, ["full-snapshot-2026-01-15-02-00-07.snapshot", "docs-7-2026-01-15-02-00-07.snapshot", "full-snapshot-2026-01-15-01-00-07.snapshot"], new Set()), [
    "full-snapshot-2026-01-15-02-00-07.snapshot",
  ]);
});
