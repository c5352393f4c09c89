/**
 * A fuzzer for what a restore reads first: the manifest (parseManifest), then what the controller makes
 * of an accepted one (restoreFiles: the Job's files; candidatesFromListing: the backup a selection sees).
 * Fed a valid manifest truncated at every byte, with bytes flipped, with fields dropped, duplicated and
 * retyped, with huge numbers, wrong sizes and checksums, and files keyed outside the backup's directory.
 *
 * What must hold, whatever the bytes: parseManifest never throws and either refuses, in words that name
 * the manifest's S3 key (what the restore's ManifestUnreadable condition then shows), or accepts a
 * manifest whose every file sits beside it and whose numbers the status can hold (safe integers); and the
 * readers after it never throw either, naming the key when they refuse. Seeded: a failure prints its seed
 * (t.diagnostic), and FUZZ_SEED=<seed> replays it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AGE_SCHEME } from "../../src/backup/codec/types.ts";
import { backupId } from "../../src/backup/layout/backup-id.ts";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { MANIFEST_VERSION, parseManifest, serializeManifest, type Manifest, type ParseManifestResult } from "../../src/backup/layout/manifest.ts";
import { manifestKey, snapshotKey, type BackupKeyParts } from "../../src/backup/layout/object-keys.ts";
import { candidatesFromListing } from "../../src/backup/select/from-listing.ts";
import { restoreFiles } from "../../src/controllers/restore/source/restore-files.ts";
import { fuzzSeed, prng, type Prng } from "./fuzz-prng.ts";

const PREFIX = "qdrant/e2e";
const UID = "4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
const ID = backupId(new Date("2026-01-15T02:00:04Z"), UID);
const parts: BackupKeyParts = { prefix: PREFIX, namespace: "search", connection: "qdrant", collection: "docs", backupId: ID };
const KEY = manifestKey(parts);
const DIR = KEY.slice(0, KEY.lastIndexOf("/") + 1);
const sha = (c: string) => c.repeat(64);

function sample(): Manifest {
  return {
    version: MANIFEST_VERSION,
    backupId: ID,
    mode: "Collection",
    source: { namespace: "search", connection: "qdrant", backupName: "nightly-20260115-0200", backupUid: UID, scheduleName: "nightly", scheduledTime: "2026-01-15T02:00:00Z" },
    operator: { version: "0.1.0" },
    qdrant: { version: "1.19.0", distributed: true },
    // A non-ASCII alias, so truncations and flips also cut a multi-byte character.
    collection: { name: "docs", pointsCount: 300, aliases: ["docs-prod", "dökümanlar"], config: { params: { vectors: { size: 4, distance: "Cosine" }, shard_number: 3 } } },
    peers: [
      { peerId: "111", shardIds: [0], file: { key: snapshotKey(parts, "111"), size: 64512, sha256: sha("a") } },
      { peerId: "222", shardIds: [1, 2], file: { key: snapshotKey(parts, "222", { compression: "zstd" }), size: 70000, sha256: sha("b"), compression: { algorithm: "zstd", level: 3 }, stored: { size: 41000, sha256: sha("c") } } },
      {
        peerId: "333",
        shardIds: [],
        file: { key: snapshotKey(parts, "333", { encrypted: true }), size: 80000, sha256: sha("d"), encryption: { scheme: AGE_SCHEME, keyRef: "backup-age/keys.txt" }, stored: { size: 80400, sha256: sha("e") } },
      },
    ],
    timings: { startTime: "2026-01-15T02:00:04Z", completionTime: "2026-01-15T02:01:30Z" },
  };
}

const VALID = serializeManifest(sample(), KEY);
const VALID_BYTES = Buffer.from(VALID, "utf8");

/** The numbers of an accepted manifest that end up in a status or a Job's plan. */
function numbersOf(m: Manifest): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  if (m.collection) out.push(["collection.pointsCount", m.collection.pointsCount]);
  for (const c of m.storage?.collections ?? []) if (c.pointsCount !== undefined) out.push([`storage.collections.${c.name}.pointsCount`, c.pointsCount]);
  m.peers.forEach((p, i) => {
    out.push([`peers[${i}].file.size`, p.file.size]);
    if (p.file.stored) out.push([`peers[${i}].file.stored.size`, p.file.stored.size]);
    for (const s of p.shardIds ?? []) out.push([`peers[${i}].shardIds`, s]);
  });
  return out;
}

/** Feeds one input through the readers; `what` says which mutation made it (for the failure message). */
function check(input: string | Uint8Array, what: string): ParseManifestResult {
  let r: ParseManifestResult;
  try {
    r = parseManifest(input, { key: KEY });
  } catch (err) {
    assert.fail(`${what}: parseManifest threw ${(err as Error).stack ?? String(err)}`);
  }
  if (!r.ok) {
    assert.ok(r.error.includes(KEY), `${what}: the refusal does not name the manifest's key: ${r.error}`);
    return r;
  }
  const m = r.manifest;
  for (const p of m.peers) assert.ok(p.file.key.startsWith(DIR) && !p.file.key.slice(DIR.length).includes("/"), `${what}: accepted a file outside the backup's directory: ${p.file.key}`);
  for (const [field, n] of numbersOf(m)) assert.ok(Number.isSafeInteger(n) && n >= 0, `${what}: accepted ${field} = ${n}, which no status can hold exactly`);
  let files;
  try {
    files = restoreFiles(m, KEY, undefined);
  } catch (err) {
    assert.fail(`${what}: restoreFiles threw ${(err as Error).stack ?? String(err)}`);
  }
  if (!files.ok) assert.ok(files.message.includes(KEY), `${what}: restoreFiles refused without naming the key: ${files.message}`);
  else for (const f of files.files) assert.ok(f.key.startsWith(DIR), `${what}: a restore file outside the backup: ${f.key}`);
  try {
    const listing = groupListing([KEY, ...m.peers.map((p) => p.file.key)], PREFIX);
    const candidates = candidatesFromListing(listing, { location: "s3", manifests: new Map([[KEY, r]]) });
    for (const c of candidates) if (c.state === "ManifestUnreadable") assert.ok(c.manifestKey === KEY, `${what}: an unreadable candidate without its key`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.fail(`${what}: candidatesFromListing threw ${(err as Error).stack ?? String(err)}`);
  }
  return r;
}

test("the valid manifest is accepted (the fuzzer's starting point)", () => {
  const r = check(VALID, "the valid manifest");
  assert.ok(r.ok);
});

test("a manifest truncated at every byte boundary is refused, naming its key", () => {
  for (let i = 0; i < VALID_BYTES.length; i++) {
    const r = check(VALID_BYTES.subarray(0, i), `truncated to ${i} bytes`);
    // Only the whole text (or it less its trailing newline) is a manifest.
    if (i < VALID_BYTES.length - 1) assert.equal(r.ok, false, `truncated to ${i} bytes was accepted`);
  }
});

test("flipped bytes never crash a reader", (t) => {
  const rnd = prng(fuzzSeed(t));
  for (let n = 0; n < 3000; n++) {
    const bytes = Buffer.from(VALID_BYTES);
    const flips = 1 + rnd.int(3);
    const at: number[] = [];
    for (let f = 0; f < flips; f++) {
      const i = rnd.int(bytes.length);
      at.push(i);
      bytes[i] = rnd.chance(0.5) ? bytes[i]! ^ (1 << rnd.int(8)) : rnd.int(256);
    }
    check(bytes, `case ${n}: bytes flipped at ${at.join(", ")}`);
  }
});

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every (container, key) in the document, so a mutation can pick any field or element. */
function slots(doc: Json, path = "", out: Array<{ path: string; parent: Json[] | Record<string, Json>; key: string | number }> = []) {
  if (Array.isArray(doc)) {
    doc.forEach((v, i) => {
      out.push({ path: `${path}[${i}]`, parent: doc, key: i });
      slots(v, `${path}[${i}]`, out);
    });
  } else if (doc !== null && typeof doc === "object") {
    for (const [k, v] of Object.entries(doc)) {
      out.push({ path: `${path}.${k}`, parent: doc, key: k });
      slots(v, `${path}.${k}`, out);
    }
  }
  return out;
}

const ODD_VALUES: Json[] = [null, true, false, 0, -1, 1.5, 2 ** 53 + 2, 2 ** 64, 1e21, 1e308, -1e308, "", " ", "x".repeat(100_000), [], {}, [[[]]], { version: MANIFEST_VERSION }, "0".repeat(64), "A".repeat(64), "\u0000", "💥", "2026-13-45T99:99:99Z", "NaN", "-0"];
const ODD_KEYS = (m: Manifest): string[] => [
  "",
  "/",
  `${DIR}`,
  `${DIR}../peer-1.snapshot`,
  `${DIR}sub/peer-1.snapshot`,
  `/${DIR}peer-1.snapshot`,
  `${DIR.replace("search", "other")}peer-1.snapshot`,
  `${DIR.replace(ID, backupId(new Date("2026-01-16T02:00:04Z"), UID))}peer-1.snapshot`,
  `other/prefix/peer-1.snapshot`,
  KEY,
  m.peers[0]!.file.key,
  `${DIR}peer-1.snapshot\u0000`,
  `${DIR}${"p".repeat(2000)}`,
];

/** One structural mutation of a parsed copy of the valid manifest: drop, duplicate or retype a field, or a targeted one. */
function mutate(rnd: Prng): { doc: Json; what: string } {
  const doc = JSON.parse(VALID) as Json;
  const m = doc as unknown as Manifest;
  const all = slots(doc);
  const s = rnd.pick(all);
  const op = rnd.int(7);
  const set = (v: Json) => ((s.parent as Record<string | number, Json>)[s.key] = v);
  switch (op) {
    case 0:
      if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
      else delete s.parent[s.key as string];
      return { doc, what: `dropped ${s.path}` };
    case 1: {
      const v = (s.parent as Record<string | number, Json>)[s.key]!;
      if (Array.isArray(s.parent)) s.parent.push(structuredClone(v));
      else s.parent[`${String(s.key)}${rnd.chance(0.5) ? "" : "_copy"}`] = structuredClone(v);
      return { doc, what: `duplicated ${s.path}` };
    }
    case 2: {
      const v = rnd.pick(ODD_VALUES);
      set(v);
      return { doc, what: `${s.path} = ${JSON.stringify(v)?.slice(0, 40)}` };
    }
    case 3: {
      const i = rnd.int(m.peers.length);
      const key = rnd.pick(ODD_KEYS(m));
      m.peers[i]!.file.key = key;
      return { doc, what: `peers[${i}].file.key = ${JSON.stringify(key.slice(0, 80))}` };
    }
    case 4: {
      const i = rnd.int(m.peers.length);
      const field = rnd.pick(["size", "stored.size", "collection.pointsCount", "shardIds"]);
      const v = rnd.pick([-1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21, 1e300, 0.5, 0, "100"] as Json[]);
      if (field === "size") (m.peers[i]!.file as unknown as Record<string, Json>).size = v;
      else if (field === "stored.size") (m.peers[i]!.file as unknown as Record<string, Json>).stored = { size: v, sha256: sha("f") };
      else if (field === "shardIds") (m.peers[i] as unknown as Record<string, Json>).shardIds = [v];
      else (m.collection as unknown as Record<string, Json>).pointsCount = v;
      return { doc, what: `peers[${i}] ${field} = ${JSON.stringify(v)}` };
    }
    case 5: {
      const i = rnd.int(m.peers.length);
      const v = rnd.pick([sha("A"), "a".repeat(63), "a".repeat(65), "g".repeat(64), "", sha("a")]);
      if (rnd.chance(0.5)) m.peers[i]!.file.sha256 = v;
      else m.peers[i]!.file.stored = { size: 1, sha256: v };
      return { doc, what: `peers[${i}] checksum = ${v.slice(0, 12)}…(${v.length})` };
    }
    default: {
      const v = rnd.pick([`${MANIFEST_VERSION.replace("v1", "v2")}`, "v1", "", null, 1] as Json[]);
      (doc as Record<string, Json>).version = v;
      return { doc, what: `version = ${JSON.stringify(v)}` };
    }
  }
}

test("dropped, duplicated and retyped fields, odd keys, numbers and checksums never crash a reader", (t) => {
  const rnd = prng(fuzzSeed(t));
  let accepted = 0;
  for (let n = 0; n < 4000; n++) {
    let { doc, what } = mutate(rnd);
    // Now and then, two mutations on top of each other.
    if (rnd.chance(0.2)) {
      const second = mutate(rnd);
      doc = second.doc;
      what = `${what}, then (on a fresh copy) ${second.what}`;
    }
    if (check(JSON.stringify(doc), `case ${n}: ${what}`).ok) accepted++;
  }
  t.diagnostic(`${accepted} of 4000 mutated manifests were still valid (a dropped optional field, a duplicated alias…)`);
});

test("texts that are not a manifest at all are refused, naming the key", () => {
  const cases: Array<[string, string | Uint8Array]> = [
    ["empty", ""],
    ["null", "null"],
    ["an array", "[]"],
    ["a string", '"manifest"'],
    ["a number", "1e999"],
    ["a BOM before the JSON", `\uFEFF${VALID}`],
    ["the JSON twice", `${VALID}${VALID}`],
    ["duplicate keys, the last one wrong", VALID.replace('"mode": "Collection",', '"mode": "Collection", "mode": "Sideways",')],
    ["deeply nested arrays", `${"[".repeat(200_000)}${"]".repeat(200_000)}`],
    ["deeply nested config", VALID.replace('"config": {', `"config": {"deep": ${"[".repeat(50_000)}${"]".repeat(50_000)},`)],
    ["not UTF-8", Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ["a lone surrogate escaped", VALID.replace('"docs-prod"', '"\\ud800"')],
    ["over the size limit", `${VALID.slice(0, -2)}${" ".repeat(16 * 1024 * 1024)}}`],
  ];
  for (const [what, input] of cases) check(input, what);
});

test("regression: sizes, counts and shard ids beyond what JSON holds exactly are refused, naming the field", () => {
  // Found by the fuzzer: the schema said only "an integer ≥ 0", so 2^64 passed and reached a status rounded.
  const withValue = (edit: (m: Manifest) => void) => {
    const m = sample();
    edit(m);
    return JSON.stringify(m);
  };
  const cases: Array<[string, string, RegExp]> = [
    ["file size 2^64", withValue((m) => (m.peers[0]!.file.size = 2 ** 64)), /peers\[0\]\.file\.size must be <= 9007199254740991/],
    ["stored size 1e300", withValue((m) => (m.peers[1]!.file.stored!.size = 1e300)), /peers\[1\]\.file\.stored\.size must be <= 9007199254740991/],
    ["points count 2^53", withValue((m) => (m.collection!.pointsCount = 2 ** 53)), /collection\.pointsCount must be <= 9007199254740991/],
    ["shard id 2^32", withValue((m) => (m.peers[0]!.shardIds = [2 ** 32])), /peers\[0\]\.shardIds\[0\] must be <= 4294967295/],
  ];
  for (const [what, text, field] of cases) {
    const r = check(text, what);
    assert.equal(r.ok, false, what);
    if (!r.ok) assert.match(r.error, field, what);
  }
});
