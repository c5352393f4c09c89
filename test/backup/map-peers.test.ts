/** mapPeers and peersNeeded: which target peer recovers which source file, as tables. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { comparePeerIds, mapPeers, peersNeeded, type PlacedFile } from "../../src/backup/topology/map-peers.ts";
import { isOperatorError } from "../../src/errors.ts";

const file = (sourcePeerId: string, ...shardIds: number[]): PlacedFile => ({ sourcePeerId, shardIds });
const peer = (id: string) => ({ id, url: `http://${id}:6333` });
/** The mapping as "source→target" pairs, in the order mapPeers returns them. */
const pairs = (out: ReturnType<typeof mapPeers>) => out.map((a) => `${a.file.sourcePeerId}→${a.peer.id}`);

describe("mapPeers", () => {
  const rows: Array<{ name: string; files: PlacedFile[]; peers: string[]; placement?: Record<string, number[]>; want: string[] }> = [
    { name: "standalone onto standalone", files: [file("111", 0)], peers: ["standalone"], want: ["111→standalone"] },
    { name: "one to one by id order, whatever order they come in", files: [file("30", 2), file("10", 0), file("20", 1)], peers: ["9", "7", "8"], want: ["10→7", "20→8", "30→9"] },
    { name: "u64 ids compare as numbers, not text", files: [file("18446744073709551615", 1), file("9", 0)], peers: ["100", "18446744073709551614"], want: ["9→100", "18446744073709551615→18446744073709551614"] },
    { name: "a file of no shards is skipped (and needs no peer)", files: [file("1", 0), file("2"), file("3", 1)], peers: ["5", "6"], want: ["1→5", "3→6"] },
    { name: "more target peers than files: the lowest ids", files: [file("1", 0)], peers: ["3", "2", "1"], want: ["1→1"] },
    {
      name: "existing target: each file to the peer holding its shards",
      files: [file("1", 0), file("2", 1), file("3", 2)],
      peers: ["7", "8", "9"],
      placement: { "7": [2], "8": [0], "9": [1] },
      want: ["1→8", "2→9", "3→7"],
    },
    {
      name: "existing target, replicas: the peer holding most of the file's shards",
      files: [file("1", 0, 1), file("2", 2)],
      peers: ["7", "8", "9"],
      placement: { "7": [0, 2], "8": [0, 1], "9": [2] },
      want: ["1→8", "2→7"],
    },
    {
      name: "existing target, a file whose shards no free peer holds: the lowest free peer",
      files: [file("1", 0), file("2", 5)],
      peers: ["7", "8", "9"],
      placement: { "7": [], "8": [0], "9": [] },
      want: ["1→8", "2→7"],
    },
    { name: "existing target, placement unknown for every peer: by id order", files: [file("2", 1), file("1", 0)], peers: ["8", "7"], placement: {}, want: ["1→7", "2→8"] },
  ];
  for (const r of rows) {
    test(r.name, () => {
      const placement = r.placement ? new Map(Object.entries(r.placement)) : undefined;
      assert.deepEqual(pairs(mapPeers(r.files, r.peers.map(peer), placement)), r.want);
    });
  }

  test("the target peers it returns are the ones given (their urls with them)", () => {
    const [a] = mapPeers([file("1", 0)], [peer("5")]);
    assert.deepEqual(a!.peer, { id: "5", url: "http://5:6333" });
  });

  const misfits: Array<{ name: string; files: PlacedFile[]; peers: string[]; want: RegExp }> = [
    { name: "3 peers with data onto 1", files: [file("1", 0), file("2", 1), file("3", 2)], peers: ["standalone"], want: /the backup has 3 peers with data.*the target Qdrant has 1 peer: .*at least 3/ },
    { name: "2 onto 0", files: [file("1", 0), file("2", 1)], peers: [], want: /the backup has 2 peers with data.*the target Qdrant has 0 peers/ },
  ];
  for (const r of misfits) {
    test(`TopologyMismatch: ${r.name}`, () => {
      assert.throws(
        () => mapPeers(r.files, r.peers.map(peer)),
        (err: unknown) => isOperatorError(err, "TOPOLOGY_MISMATCH") && r.want.test((err as Error).message),
      );
    });
  }
});

describe("peersNeeded", () => {
  for (const [files, want] of [
    [[file("1", 0)], 1],
    [[file("1", 0), file("2"), file("3", 1, 2)], 2],
    [[file("1")], 0],
  ] as const) {
    test(`${files.map((f) => `${f.sourcePeerId}[${f.shardIds.join(",")}]`).join(" ")} needs ${want}`, () => assert.equal(peersNeeded(files), want));
  }
});

describe("comparePeerIds", () => {
  test("numbers by value, stand-in names after them by text", () => {
    assert.deepEqual(["static-1", "10", "standalone", "9", "static-0"].sort(comparePeerIds), ["9", "10", "standalone", "static-0", "static-1"]);
  });
});
