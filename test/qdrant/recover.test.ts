/**
 * The adapter's recovery calls (src/qdrant/recover.ts through QdrantApi) against the environment's Qdrant:
 * recover from a URL with a right and a wrong checksum, a streamed upload of a real snapshot (the download
 * piped straight in), and the ways an upload must fail without Qdrant ever recovering anything: a body
 * shorter or longer than announced, `beforeEnd` rejecting, the caller's signal. Each failure checks that
 * no collection was created.
 */
import { after, before, describe, it, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { isOperatorError } from "../../src/errors.ts";
import { allPoints, qdrantApi, uniqueName, useCollection } from "../helpers/qdrant.ts";

interface Snapshot {
  collection: string;
  name: string;
  bytes: Buffer;
  sha256: string;
}

/** A seeded collection's snapshot, downloaded whole (a few KiB) and deleted on Qdrant. */
async function takeSnapshot(t: TestContext, points = 30): Promise<Snapshot> {
  const api = qdrantApi();
  const collection = await useCollection(t, "recsrc", { points });
  const made = await api.createSnapshot({ collection });
  const dl = await api.downloadSnapshot({ collection }, made.name);
  const chunks: Buffer[] = [];
  for await (const c of dl.body) chunks.push(c as Buffer);
  await api.deleteSnapshot({ collection }, made.name);
  const bytes = Buffer.concat(chunks);
  return { collection, name: made.name, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** A fresh name for a target, deleted when the test ends. */
function target(t: TestContext): string {
  const name = uniqueName("rectgt");
  t.after(() => qdrantApi().deleteCollection(name).then(() => undefined));
  return name;
}

function chunksOf(bytes: Buffer, size = 1000): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return Readable.from(parts);
}

function isCode(code: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isOperatorError(err), `a coded error: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  };
}

describe("QdrantApi recovery", () => {
  /** Serves the bytes registered under a path, as a presigned S3 URL would. */
  let server: Server;
  let base: string;
  const files = new Map<string, Buffer>();
  before(async () => {
    server = createServer((req, res) => {
      const body = files.get(req.url ?? "");
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("recovers from a URL with the right checksum into a new name, with the source's points", async (t) => {
    const snap = await takeSnapshot(t);
    files.set(`/${snap.name}`, snap.bytes);
    const name = target(t);
    await qdrantApi().recoverSnapshot(name, { location: `${base}/${snap.name}`, checksum: snap.sha256, priority: "snapshot" });
    assert.deepEqual(await allPoints(name), await allPoints(snap.collection));
    assert.equal((await qdrantApi().collectionInfo(name)).status, "green");
  });

  it("refuses a wrong checksum from a URL as ChecksumMismatch and creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    files.set(`/${snap.name}`, snap.bytes);
    const name = target(t);
    const wrong = "0".repeat(64);
    await assert.rejects(qdrantApi().recoverSnapshot(name, { location: `${base}/${snap.name}`, checksum: wrong }), (err) => {
      assert.ok(isCode("SNAPSHOT_CHECKSUM_MISMATCH")(err));
      assert.equal((err as Error & { reason: string }).reason, "ChecksumMismatch");
      return true;
    });
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("refuses to recover over a collection whose vectors differ, as TargetIncompatible", async (t) => {
    const snap = await takeSnapshot(t);
    files.set(`/${snap.name}`, snap.bytes);
    const other = await useCollection(t, "recother", { config: { vectors: { size: 8, distance: "Dot" } }, points: 0 });
    await assert.rejects(qdrantApi().recoverSnapshot(other, { location: `${base}/${snap.name}` }), isCode("TARGET_INCOMPATIBLE"));
    assert.equal(await qdrantApi().count(other), 0);
  });

  it("streams a real snapshot's download straight into an upload, with its checksum", async (t) => {
    const api = qdrantApi();
    const source = await useCollection(t, "recsrc", { points: 40 });
    const made = await api.createSnapshot({ collection: source });
    t.after(() => api.deleteSnapshot({ collection: source }, made.name).then(() => undefined));
    const dl = await api.downloadSnapshot({ collection: source }, made.name);
    const name = target(t);
    const sent = await api.uploadSnapshot(name, dl.body, { size: made.size, filename: made.name, ...(made.checksum ? { checksum: made.checksum } : {}), priority: "snapshot" });
    assert.equal(sent.bytes, made.size);
    assert.deepEqual(await allPoints(name), await allPoints(source));
  });

  it("refuses a wrong upload checksum as ChecksumMismatch and creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    const name = target(t);
    await assert.rejects(
      qdrantApi().uploadSnapshot(name, chunksOf(snap.bytes), { size: snap.bytes.length, filename: snap.name, checksum: "f".repeat(64) }),
      isCode("SNAPSHOT_CHECKSUM_MISMATCH"),
    );
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("fails an upload whose body is shorter than its size, and Qdrant creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    const name = target(t);
    const short = snap.bytes.subarray(0, snap.bytes.length - 512);
    await assert.rejects(qdrantApi().uploadSnapshot(name, chunksOf(short), { size: snap.bytes.length, filename: snap.name }), (err) => {
      assert.ok(isCode("SNAPSHOT_CORRUPT")(err));
      assert.match((err as Error).message, new RegExp(`ended after ${short.length} of ${snap.bytes.length} bytes`));
      return true;
    });
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("fails an upload whose body is longer than its size before sending the excess, and Qdrant creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    const name = target(t);
    // Announced one block short: a tar cut at a block boundary would still read as a whole archive.
    await assert.rejects(qdrantApi().uploadSnapshot(name, chunksOf(snap.bytes), { size: snap.bytes.length - 512, filename: snap.name }), isCode("SNAPSHOT_CORRUPT"));
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("aborts the upload when beforeEnd rejects, after every byte went out: Qdrant creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    const name = target(t);
    const refusal = new Error("the archive's SHA-256 differs from the manifest's");
    let calledAfter = -1;
    let seen = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      for await (const c of chunksOf(snap.bytes)) {
        seen += (c as Buffer).length;
        yield c as Buffer;
      }
    }
    await assert.rejects(
      qdrantApi().uploadSnapshot(name, body(), {
        size: snap.bytes.length,
        filename: snap.name,
        beforeEnd: () => {
          calledAfter = seen;
          return Promise.reject(refusal);
        },
      }),
      (err) => err === refusal,
    );
    assert.equal(calledAfter, snap.bytes.length);
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("rejects with the signal's reason when aborted mid-upload, and Qdrant creates nothing", async (t) => {
    const snap = await takeSnapshot(t);
    const name = target(t);
    const ctl = new AbortController();
    const reason = new Error("lost the lease");
    const half = snap.bytes.subarray(0, Math.floor(snap.bytes.length / 2));
    let rest!: () => void;
    const stalled = new Promise<void>((resolve) => (rest = resolve));
    async function* body(): AsyncGenerator<Uint8Array> {
      yield half;
      ctl.abort(reason);
      await stalled;
      yield snap.bytes.subarray(half.length);
    }
    await assert.rejects(qdrantApi().uploadSnapshot(name, body(), { size: snap.bytes.length, filename: snap.name }, { signal: ctl.signal }), (err) => {
      assert.equal(err, reason);
      return true;
    });
    rest();
    assert.equal(await qdrantApi().collectionExists(name), false);
  });

  it("rejects with the signal's reason when aborted while Qdrant downloads the location", async (t) => {
    const name = target(t);
    const ctl = new AbortController();
    const reason = new Error("stopped");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": 10_240 });
      res.write(Buffer.alloc(512));
      ctl.abort(reason);
      void held.then(() => res.destroy());
    });
    await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => slow.close(() => resolve())));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/x.snapshot`;
    await assert.rejects(qdrantApi().recoverSnapshot(name, { location: url }, { signal: ctl.signal }), (err) => err === reason);
    release();
    assert.equal(await qdrantApi().collectionExists(name), false);
  });
});
