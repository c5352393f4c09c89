/**
 * A fuzzer for the bucket listing readers: groupListing (what a schedule's prune, a restore's backup
 * selection, the cleanup sweep and `kubectl qdrant backups list --from-bucket` all read a listing with),
 * candidatesFromListing after it, and readMarker and readIntent (a pending marker's and an intent's body,
 * read by every backup run and the sweep). Fed listings of valid keys mixed with odd ones: empty, slashes only, other prefixes, keys
 * cut or extended by a segment, malformed backup ids and dates (Feb 30, year 0050), upper case, Unicode,
 * control characters, 2,000-character segments, markers, duplicates — and marker bodies corrupted.
 *
 * What must hold: nothing throws; every key lands exactly once, in one backup or among the foreign keys;
 * a key is read as a backup's only when it parses back to the same backup (its id round-trips: the time
 * read from it makes the same id); a complete backup's manifest key is its own; a marker's body is read
 * only when it names what its key names. Seeded: FUZZ_SEED=<seed> replays a failure's inputs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { backupId, parseBackupId } from "../../src/backup/layout/backup-id.ts";
import { groupListing } from "../../src/backup/layout/listing.ts";
import { locationRoot, manifestKey, parseManifestKey, snapshotKey, type BackupKeyParts } from "../../src/backup/layout/object-keys.ts";
import { candidatesFromListing } from "../../src/backup/select/from-listing.ts";
import { intentKey, markerKey, readIntent, readMarker } from "../../src/backup/store/pending-markers.ts";
import { fuzzSeed, prng, type Prng } from "./fuzz-prng.ts";

const UIDS = ["4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"];
const TIMES = ["2026-01-15T02:00:04Z", "2026-01-16T02:00:04Z", "2025-12-31T23:59:59Z"];
const PREFIXES = ["", "qdrant", "qdrant/e2e", "/qdrant/e2e/"];

function validKeys(rnd: Prng, prefix: string): string[] {
  const parts: BackupKeyParts = {
    ...(prefix ? { prefix } : {}),
    namespace: rnd.pick(["search", "prod", "a"]),
    connection: rnd.pick(["qdrant", "q.example", "q-2"]),
    ...(rnd.chance(0.8) ? { collection: rnd.pick(["docs", "Docs", "dökümanlar", "a.b", "x".repeat(255)]) } : { fullStorage: true as const }),
    backupId: backupId(new Date(rnd.pick(TIMES)), rnd.pick(UIDS)),
  };
  const keys = [snapshotKey(parts, String(rnd.int(5000))), snapshotKey(parts, "7", { compression: "zstd", encrypted: rnd.chance(0.5) })];
  if (rnd.chance(0.7)) keys.push(manifestKey(parts));
  if (rnd.chance(0.3)) keys.push(markerKey(keys[0]!.slice(0, keys[0]!.lastIndexOf("/") + 1), { peerId: "7", peerUrl: "http://q:6333", collection: "docs", snapshot: "docs-7-2026-01-15-02-00-05.snapshot" }));
  return keys;
}

/** A key bent out of shape: a segment cut, added, replaced, re-cased or filled with something odd. */
function oddKey(rnd: Prng, from: string): string {
  const segs = from.split("/");
  const i = rnd.int(segs.length);
  switch (rnd.int(9)) {
    case 0:
      return segs.filter((_, j) => j !== i).join("/");
    case 1:
      return [...segs.slice(0, i), rnd.pick(["", "x", "_collections", "_storage", ".."]), ...segs.slice(i)].join("/");
    case 2:
      segs[i] = segs[i]!.toUpperCase();
      return segs.join("/");
    case 3:
      segs[i] = rnd.pick(["20260230T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", "00500101T000000Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", "20261315T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d", "20260115T020004Z-not-a-uid"]);
      return segs.join("/");
    case 4:
      segs[i] = rnd.pick(["manifest.json ", "manifest.JSON", "peer-.snapshot", "peer-1.snapshot.gz", "peer-123456789012345678901.snapshot", "peer-1.snapshot.age.zst"]);
      return segs.join("/");
    case 5:
      segs[i] = rnd.pick(["%", "%zz", "%2F", "~", "a~b", "\u0000", "\n", "💥", "é", "x".repeat(2000)]);
      return segs.join("/");
    case 6:
      return `${from}${rnd.pick(["/", "//", "/manifest.json", "x"])}`;
    case 7:
      return rnd.pick(["", "/", "//", "manifest.json", "_pending/", "qdrant/", "qdrant//search"]);
    default:
      return from.slice(0, rnd.int(from.length));
  }
}

/**
 * One damaged body of `good` (a pending marker's or intent's): a byte changed or the body cut, or one of
 * `fields` dropped or given a value of `odd`; `what` says which, for the failure message.
 */
function damagedBody(rnd: Prng, n: number, good: Record<string, unknown>, fields: string[], odd: unknown[]): { body: string; what: string } {
  const text = JSON.stringify(good);
  if (rnd.chance(0.4)) {
    const bytes = Buffer.from(text);
    const at = rnd.int(bytes.length);
    bytes[at] = rnd.int(256);
    return { body: rnd.chance(0.5) ? bytes.toString("latin1") : text.slice(0, rnd.int(text.length)), what: `case ${n}: a byte at ${at} changed or the body cut` };
  }
  const m: Record<string, unknown> = { ...good };
  const field = rnd.pick(fields);
  if (rnd.chance(0.3)) delete m[field];
  else m[field] = rnd.pick(odd);
  return { body: JSON.stringify(m), what: `case ${n}: ${field} = ${JSON.stringify(m[field])?.slice(0, 40)}` };
}

function checkListing(keys: string[], prefix: string, what: string): void {
  let grouped;
  try {
    grouped = groupListing(keys, prefix);
  } catch (err) {
    assert.fail(`${what}: groupListing threw ${(err as Error).stack ?? String(err)}`);
  }
  const root = locationRoot(prefix);
  const placed = new Map<string, number>();
  for (const b of [...grouped.complete, ...grouped.incomplete]) {
    assert.ok(b.backupPrefix.startsWith(root), `${what}: backup ${b.backupPrefix} outside the location's root ${root}`);
    const id = parseBackupId(b.backupId);
    assert.ok(id !== undefined && !Number.isNaN(b.backupTime.getTime()), `${what}: backup ${b.backupPrefix} has no valid time`);
    assert.equal(backupId(b.backupTime, id.uid), b.backupId, `${what}: the id ${b.backupId} does not round-trip through its time (${b.backupTime.toISOString()})`);
    for (const k of b.keys) {
      assert.ok(k.startsWith(b.backupPrefix), `${what}: key ${k} grouped under ${b.backupPrefix}`);
      placed.set(k, (placed.get(k) ?? 0) + 1);
    }
    if (b.manifestKey !== undefined) {
      assert.ok(b.keys.includes(b.manifestKey), `${what}: ${b.manifestKey} is not among its backup's keys`);
      assert.ok(parseManifestKey(b.manifestKey, prefix), `${what}: ${b.manifestKey} is not a manifest key`);
    }
  }
  for (const k of grouped.foreign) placed.set(k, (placed.get(k) ?? 0) + 1);
  for (const k of new Set(keys)) assert.equal(placed.get(k), 1, `${what}: key ${JSON.stringify(k.slice(0, 200))} placed ${placed.get(k) ?? 0} times`);
  assert.equal(placed.size, new Set(keys).size, `${what}: keys appeared that were not listed`);
  for (const k of keys) if (k.includes("/_pending/")) assert.ok(grouped.foreign.includes(k), `${what}: marker ${k} read as a backup's object`);
  try {
    // No manifest read: every complete backup is ManifestUnreadable ("not read"), never a crash.
    for (const c of candidatesFromListing(grouped, { location: "s3", manifests: new Map() })) if (c.state !== "Incomplete") assert.equal(c.state, "ManifestUnreadable", what);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.fail(`${what}: candidatesFromListing threw ${(err as Error).stack ?? String(err)}`);
  }
}

test("listings of valid and odd keys never crash groupListing, and every key lands exactly once", (t) => {
  const rnd = prng(fuzzSeed(t));
  for (let n = 0; n < 3000; n++) {
    const prefix = rnd.pick(PREFIXES);
    const keys: string[] = [];
    for (let b = rnd.int(4); b >= 0; b--) keys.push(...validKeys(rnd, prefix));
    for (let o = rnd.int(6); o > 0; o--) keys.push(oddKey(rnd, rnd.pick(keys)));
    if (rnd.chance(0.2)) keys.push(rnd.pick(keys));
    // A listing read with another location's prefix (nested prefixes on one bucket).
    const readWith = rnd.chance(0.2) ? rnd.pick(PREFIXES) : prefix;
    checkListing(keys, readWith, `case ${n} (prefix ${JSON.stringify(readWith)}, keys ${JSON.stringify(keys.map((k) => k.slice(0, 120)))})`);
  }
});

test("regression: a backup id of a year before 0100 is not read as 19xx", () => {
  // Found by the fuzzer: Date.UTC maps years 0-99 to 1900-1999, so the id's time came out 1950.
  const id = "00500101T000000Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d";
  const parsed = parseBackupId(id);
  if (parsed !== undefined) assert.equal(backupId(parsed.time, parsed.uid), id);
  checkListing([`qdrant/search/qdrant/_collections/docs/${id}/manifest.json`], "qdrant", "year 0050");
});

test("marker bodies that do not say what their key says are not read as markers", (t) => {
  const rnd = prng(fuzzSeed(t));
  const dir = "qdrant/search/qdrant/_collections/docs/20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d/";
  const good = { peerId: "7", peerUrl: "http://q:6333", collection: "docs", snapshot: "docs-7-2026-01-15-02-00-05.snapshot" };
  const key = markerKey(dir, good);
  assert.deepEqual(readMarker(key, JSON.stringify(good)), { ...good, key });
  const odd: unknown[] = [null, 7, "", "7", [], {}, true, "x".repeat(5000), "ftp://q", "javascript:alert(1)", "http://", { a: 1 }];
  for (let n = 0; n < 3000; n++) {
    const { body, what } = damagedBody(rnd, n, good, ["peerId", "peerUrl", "collection", "snapshot"], odd);
    let read;
    try {
      read = readMarker(key, body);
    } catch (err) {
      assert.fail(`${what}: readMarker threw ${(err as Error).stack ?? String(err)}`);
    }
    if (read === undefined) continue;
    assert.equal(read.key, key, what);
    assert.ok(key.endsWith(`/${read.peerId}/${read.snapshot}`) || key.includes(`/_pending/${read.peerId}/`), `${what}: read a marker of another peer or snapshot than its key's`);
    assert.match(read.peerUrl, /^https?:\/\//, what);
  }
});

test("regression: a marker that is JSON null, or names another snapshot than its key, is left out instead of failing the run", () => {
  const dir = "qdrant/search/qdrant/_storage/20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d/";
  const m = { peerId: "7", peerUrl: "http://q:6333", snapshot: "full-snapshot-2026-01-15-02-00-05.snapshot" };
  const key = markerKey(dir, m);
  assert.equal(readMarker(key, "null"), undefined);
  assert.equal(readMarker(key, "{"), undefined);
  assert.equal(readMarker(key, JSON.stringify({ ...m, snapshot: "someone-elses.snapshot" })), undefined);
  assert.equal(readMarker(key, JSON.stringify({ ...m, peerId: "8" })), undefined);
  assert.deepEqual(readMarker(key, JSON.stringify(m)), { ...m, key });
});

test("intent bodies that do not say what their key says are not read as intents", (t) => {
  const rnd = prng(fuzzSeed(t));
  const dir = "qdrant/search/qdrant/_collections/docs/20260115T020004Z-4f0c1c2e-7a0b-4c43-9b7e-1d2f3a4b5c6d/";
  const good = { peerId: "7", peerUrl: "http://q:6333", collection: "docs", notBefore: "2026-01-15T02:00:05.123Z" };
  const key = intentKey(dir, good);
  assert.deepEqual(readIntent(key, JSON.stringify(good)), { ...good, key });
  const storage = { peerId: "7", peerUrl: "http://q:6333", notBefore: "2026-01-15T02:00:05Z" };
  assert.deepEqual(readIntent(intentKey(dir, storage), JSON.stringify(storage)), { ...storage, key: intentKey(dir, storage) });
  assert.equal(readIntent(intentKey(dir, storage), JSON.stringify(good)), undefined, "a collection's intent under the full storage's key");
  assert.equal(readIntent(key, JSON.stringify(storage)), undefined, "the full storage's intent under a collection's key");
  assert.equal(readMarker(key, JSON.stringify(good)), undefined, "an intent is no marker");
  const odd: unknown[] = [null, 7, "", "7", [], {}, true, "x".repeat(5000), "ftp://q", "http://", "other", "2026-01-15", "2026-02-30T02:00:05Z", "2026-01-15T02:00:05+01:00", { a: 1 }];
  for (let n = 0; n < 3000; n++) {
    const { body, what } = damagedBody(rnd, n, good, ["peerId", "peerUrl", "collection", "notBefore"], odd);
    let read;
    try {
      read = readIntent(key, body);
    } catch (err) {
      assert.fail(`${what}: readIntent threw ${(err as Error).stack ?? String(err)}`);
    }
    if (read === undefined) continue;
    assert.equal(read.key, key, what);
    assert.equal(intentKey(dir, read), key, `${what}: read an intent of another peer or scope than its key's`);
    assert.match(read.peerUrl, /^https?:\/\//, what);
    assert.ok(!Number.isNaN(Date.parse(read.notBefore)), what);
  }
});
