import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { receiveMultipartFile } from "./multipart.ts";
import { extractEntry, readEntry, readTarEntries, TarFormatError, TarWriter } from "./tar.ts";
import { ShardStore, CorruptShardError } from "./shard-store.ts";
import { convertSchema, OpenApiValidator } from "./openapi-validator.ts";

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "emu-format-test-"));
}

describe("tar", () => {
  it("round-trips entries, long names and streamed content, and hashes what it writes", async () => {
    const dir = tmp();
    try {
      const file = path.join(dir, "a.tar");
      const tar = await TarWriter.create(file);
      await tar.addDirectory("0");
      await tar.addBuffer("0/replica_state.json", Buffer.from("{}"));
      const long = `${"n".repeat(150)}.snapshot`;
      await tar.addStream(long, 3, async (write) => {
        await write(Buffer.from("abc"));
      });
      const sha = await tar.finish();
      assert.equal(sha, createHash("sha256").update(fs.readFileSync(file)).digest("hex"));
      const entries = await readTarEntries(file);
      assert.deepEqual(entries.map((e) => [e.name, e.type, e.size]), [["0/", "directory", 0], ["0/replica_state.json", "file", 2], [long, "file", 3]]);
      assert.equal((await readEntry(file, entries[2] ?? entries[0]!)).toString(), "abc");
      await extractEntry(file, entries[1]!, path.join(dir, "x"));
      assert.equal(fs.readFileSync(path.join(dir, "x"), "utf8"), "{}");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects garbage and truncated archives", async () => {
    const dir = tmp();
    try {
      const file = path.join(dir, "bad.tar");
      fs.writeFileSync(file, Buffer.alloc(1024, 1));
      await assert.rejects(readTarEntries(file), TarFormatError);
      const good = path.join(dir, "good.tar");
      const tar = await TarWriter.create(good);
      await tar.addBuffer("f", Buffer.alloc(2000, 2));
      await tar.finish();
      fs.writeFileSync(file, fs.readFileSync(good).subarray(0, 1500));
      await assert.rejects(readTarEntries(file), TarFormatError);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("shard store", () => {
  it("keeps the latest record per key across reopen and cuts a torn tail", () => {
    const dir = tmp();
    try {
      const file = path.join(dir, "points.bin");
      const s = ShardStore.open(file);
      s.put("n:1", 1, Buffer.from('{"a":1}'));
      s.put("n:2", 2, Buffer.from('{"a":2}'));
      s.put("n:1", 3, Buffer.from('{"a":3}'));
      s.remove("n:2", 4);
      s.close();
      fs.appendFileSync(file, Buffer.from([1, 0, 3]));
      assert.throws(() => ShardStore.open(file, true), CorruptShardError);
      const again = ShardStore.open(file);
      assert.equal(again.count, 1);
      assert.equal(again.read("n:1")?.body.toString(), '{"a":3}');
      assert.equal(again.lastVersion, 4);
      again.close();
      ShardStore.open(file, true).close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("multipart upload reader", () => {
  it("extracts the named file part even when boundaries straddle chunks", async () => {
    const dir = tmp();
    const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    const boundary = "----emulatortestboundary";
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="other"\r\n\r\nignored\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="s.snapshot"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const dest = path.join(dir, "out");
    const server = createServer((req, res) => {
      receiveMultipartFile(req, "snapshot", dest).then(
        (r) => res.end(JSON.stringify(r)),
        (e: unknown) => res.end(String(e)),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const result = await new Promise<string>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}` } }, (res) => {
          let text = "";
          res.on("data", (b: Buffer) => (text += b.toString()));
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        // Odd-sized writes so that delimiters land across chunk borders.
        for (let i = 0; i < body.length; i += 997) req.write(body.subarray(i, i + 997));
        req.end();
      });
      const parsed = JSON.parse(result) as { filename: string; size: number; sha256: string };
      assert.equal(parsed.filename, "s.snapshot");
      assert.equal(parsed.size, content.length);
      assert.equal(parsed.sha256, createHash("sha256").update(content).digest("hex"));
      assert.deepEqual(fs.readFileSync(dest), content);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("OpenAPI validator", () => {
  it("turns OpenAPI nullable into JSON Schema null types", () => {
    assert.deepEqual(convertSchema({ type: "string", nullable: true, example: "x" }), { type: ["string", "null"] });
    assert.deepEqual(convertSchema({ anyOf: [{ $ref: "#/components/schemas/A" }, { nullable: true }] }), {
      anyOf: [{ $ref: "#/components/schemas/A" }, { type: "null" }],
    });
    assert.deepEqual(convertSchema({ type: "string", enum: ["a"], nullable: true }), { type: ["string", "null"], enum: ["a", null] });
  });

  it("matches operations, status keys and content types", () => {
    const v = OpenApiValidator.load();
    const ok = { result: { exists: true }, status: "ok", time: 0.1 };
    assert.equal(v.validateResponse({ method: "GET", path: "/collections/x/exists", status: 200, contentType: "application/json", body: ok }).valid, true);
    const bad = v.validateResponse({ method: "GET", path: "/collections/x/exists", status: 200, contentType: "application/json", body: { result: { exists: "yes" } } });
    assert.equal(bad.valid, false);
    assert.equal(bad.operation, "GET /collections/{collection_name}/exists");
    const err = { status: { error: "Not found: x" }, time: 0 };
    assert.equal(v.validateResponse({ method: "GET", path: "/collections/x", status: 404, contentType: "application/json", body: err }).valid, true);
    assert.equal(v.validateResponse({ method: "POST", path: "/collections/aliases", status: 200, contentType: "application/json", body: { result: true, status: "ok", time: 1 } }).operation, "POST /collections/aliases");
    assert.equal(v.validateResponse({ method: "GET", path: "/nowhere", status: 200 }).undocumented, true);
    assert.equal(v.validateSchema("SnapshotDescription", { name: "a", size: -1 }).valid, false);
  });
});
