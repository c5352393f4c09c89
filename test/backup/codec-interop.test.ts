/**
 * The codec against the standard tools, as a person restoring by hand would use them: the real `zstd`
 * (Debian's, test/helpers/tools.ts) and the real `age` built from filippo.io/age v1.3.2 (test/env/go/age,
 * built lazily here through test/env/build.ts ensureAgeBinaries: the shared environment may predate it).
 * The key file given to `age -i` is the very text a location's Secret holds: comments, and the rotation's
 * second identity after the first.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { test } from "node:test";
import { promisify } from "node:util";
import { parseAgeKeys } from "../../src/backup/codec/age-keys.ts";
import { decodeObject } from "../../src/backup/codec/decode.ts";
import { encodeSnapshot } from "../../src/backup/codec/encode.ts";
import type { EncodeSettings } from "../../src/backup/codec/types.ts";
import { ensureAgeBinaries } from "../env/build.ts";
import { zstdPath } from "../helpers/tools.ts";
import { digest, keyFile, newKey, realisticSnapshot } from "./codec-fixtures.ts";

const run = promisify(execFile);
const SIZE = 6 * 1024 * 1024 + 999;
const SEED = 15;

async function encodeToFile(path: string, settings: EncodeSettings): Promise<void> {
  await pipeline(Readable.from(encodeSnapshot(realisticSnapshot(SIZE, SEED), settings)), createWriteStream(path));
}

/** sha256 of what a shell pipeline prints on stdout. */
async function sha256Of(command: string, args: string[], stdinFile?: string): Promise<string> {
  const child = spawn(command, args, { stdio: [stdinFile ? "pipe" : "ignore", "pipe", "pipe"] });
  if (stdinFile) void pipeline(createReadStream(stdinFile), child.stdin!);
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const h = createHash("sha256");
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  for await (const c of child.stdout!) h.update(c as Buffer);
  const code = await exited;
  assert.equal(code, 0, `${command} ${args.join(" ")} exited ${code}: ${stderr}`);
  return h.digest("hex");
}

test("the real zstd and age read our objects, and we read theirs", async (t) => {
  const [{ age }, zstd] = await Promise.all([ensureAgeBinaries(), zstdPath()]);
  const dir = await mkdtemp(join(tmpdir(), "codec-interop-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [current, previous] = [await newKey(), await newKey()];
  const secretText = keyFile(current, previous);
  const keys = parseAgeKeys(secretText, "test key file");
  const keyPath = join(dir, "keys.txt");
  await writeFile(keyPath, secretText, { mode: 0o600 });
  const want = (await digest(realisticSnapshot(SIZE, SEED))).sha256;

  await t.test("zstd -d of a zstd object gives the snapshot", async () => {
    const file = join(dir, "peer-1.snapshot.zst");
    await encodeToFile(file, { compression: { algorithm: "zstd", level: 5 } });
    assert.equal(await sha256Of(zstd, ["-d", "-c", file]), want);
  });

  await t.test("age -d -i keyfile of an age object gives the snapshot", async () => {
    const file = join(dir, "peer-1.snapshot.age");
    await encodeToFile(file, { encryption: { keys } });
    assert.equal(await sha256Of(age, ["-d", "-i", keyPath, file]), want);
  });

  await t.test("age -d -i keyfile | zstd -d of a zstd+age object gives the snapshot", async () => {
    const file = join(dir, "peer-1.snapshot.zst.age");
    await encodeToFile(file, { compression: { algorithm: "zstd", level: 3 }, encryption: { keys } });
    assert.equal(await sha256Of("sh", ["-c", `"$0" -d -i "$1" "$2" | "$3" -d -c`, age, keyPath, file, zstd]), want);
  });

  await t.test("an object made by zstd | age -r decodes with decodeObject, with the old identity of a rotated key file", async () => {
    const plain = join(dir, "plain.snapshot");
    await pipeline(Readable.from(realisticSnapshot(SIZE, SEED)), createWriteStream(plain));
    const file = join(dir, "theirs.snapshot.zst.age");
    // Encrypted to `previous` only: the rotated key file lists it second.
    await run("sh", ["-c", `"$0" -q -c -3 "$1" | "$2" -r "$3" -o "$4"`, zstd, plain, age, previous.recipient, file]);
    const decoded = await decodeObject(createReadStream(file, { highWaterMark: 1 << 16 }), { compression: { algorithm: "zstd" }, encryption: { scheme: "age-v1" } }, keys, "theirs.snapshot.zst.age");
    assert.equal((await digest(decoded)).sha256, want);
  });
});
