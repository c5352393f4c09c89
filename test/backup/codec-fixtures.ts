/**
 * Data and keys for the codec tests: a realistic snapshot (records of float32 vectors and text payloads,
 * as a Qdrant segment holds them, not zeros, so compression ratios mean something), generated on the
 * fly in chunks so a test of 512 MiB never holds it, and age key files as a Secret would hold them.
 */
import { createHash } from "node:crypto";
import { generateIdentity, identityToRecipient } from "age-encryption";

const WORDS = (
  "vector search payload filter collection shard replica segment index quantization cosine dot euclid " +
  "document title body author created updated tag category price stock region language summary score " +
  "the a of and to in is for on with as by at from that this which be are was were it an or not"
).split(" ");

/** A small fast PRNG (xorshift32), so the same seed gives the same bytes for a hash to compare. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

export const DIM = 128;

/**
 * `totalBytes` of records `[u32 id][DIM float32 in -1..1][u16 n][n bytes of JSON text]`, in chunks of
 * `chunkBytes` (the last one shorter), deterministic from `seed`.
 */
export function realisticSnapshot(totalBytes: number, seed = 1, chunkBytes = 1 << 20): AsyncIterable<Buffer> {
  return asAsync(snapshotChunks(totalBytes, seed, chunkBytes));
}

function* snapshotChunks(totalBytes: number, seed: number, chunkBytes: number): Generator<Buffer> {
  const next = prng(seed);
  let id = 0;
  let produced = 0;
  let carry = Buffer.alloc(0);
  while (produced < totalBytes) {
    const want = Math.min(chunkBytes, totalBytes - produced);
    const parts: Buffer[] = [carry];
    let have = carry.length;
    while (have < want) {
      const rec = record(id++, next);
      parts.push(rec);
      have += rec.length;
    }
    const all = Buffer.concat(parts, have);
    carry = Buffer.from(all.subarray(want));
    produced += want;
    yield all.subarray(0, want);
  }
}

function record(id: number, next: () => number): Buffer {
  const words: string[] = [];
  const n = 8 + (next() % 40);
  for (let i = 0; i < n; i++) words.push(WORDS[next() % WORDS.length]!);
  const text = Buffer.from(JSON.stringify({ id, title: words.slice(0, 4).join(" "), body: words.join(" "), price: (next() % 100000) / 100 }));
  const buf = Buffer.allocUnsafe(4 + DIM * 4 + 2 + text.length);
  buf.writeUInt32LE(id, 0);
  for (let i = 0; i < DIM; i++) buf.writeFloatLE((next() / 0xffffffff) * 2 - 1, 4 + i * 4);
  buf.writeUInt16LE(text.length, 4 + DIM * 4);
  text.copy(buf, 6 + DIM * 4);
  return buf;
}

/** All of `source` in one Buffer (small data only). */
export async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c);
  return Buffer.concat(parts);
}

/** sha256 hex and byte count of `source`, streaming. */
export async function digest(source: AsyncIterable<Buffer>): Promise<{ sha256: string; size: number }> {
  const h = createHash("sha256");
  let size = 0;
  for await (const c of source) {
    h.update(c);
    size += c.length;
  }
  return { sha256: h.digest("hex"), size };
}

export function chunksOf(buf: Buffer, size = 64 * 1024): AsyncIterable<Buffer> {
  return asAsync((function* () {
    for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
  })());
}

/** A sync generator as an async iterable, one chunk per turn of the event loop's microtasks. */
async function* asAsync<T>(gen: Iterable<T>): AsyncGenerator<T> {
  for (const v of gen) yield await Promise.resolve(v);
}

export interface TestKey {
  identity: string;
  recipient: string;
}

export async function newKey(): Promise<TestKey> {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** A key file as age-keygen writes it (comments included), with the identities in the order given. */
export function keyFile(...keys: TestKey[]): string {
  return keys.map((k) => `# created: 2026-12-02T08:00:00Z\n# public key: ${k.recipient}\n${k.identity}\n`).join("\n");
}
