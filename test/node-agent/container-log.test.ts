/** The CRI log format the agent writes, and reading it back as `kubectl logs` asks for it. */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerLogWriter, criTimestamp } from "../env/node-agent/container-log.ts";
import { logTail, readLog, type LogOptions } from "../env/node-agent/log-reader.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "node-agent-log-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function read(path: string, opts: LogOptions, writer?: ContainerLogWriter): Promise<string> {
  let out = "";
  await readLog(path, opts, (c) => {
    out += c;
    return Promise.resolve();
  }, writer);
  return out;
}

test("lines are recorded per stream with F/P tags; a partial line is flushed at close", async () => {
  const w = new ContainerLogWriter(join(dir, "a", "0.log"));
  w.write("stdout", "one\ntw");
  w.write("stderr", "err\n");
  w.write("stdout", "o\nthree");
  await w.close();
  const lines = (await readFile(w.path, "utf8")).trimEnd().split("\n");
  assert.deepEqual(lines.map((l) => l.split(" ").slice(1).join(" ")), ["stdout F one", "stderr F err", "stdout F two", "stdout P three"]);
  assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
  assert.equal(await read(w.path, {}), "one\nerr\ntwo\nthree");
  assert.equal(await read(w.path, { streams: ["stdout"] }), "one\ntwo\nthree");
  assert.equal(await read(w.path, { tailLines: 2 }), "two\nthree");
  assert.equal(await read(w.path, { tailLines: 0 }), "");
  assert.equal(await read(w.path, { limitBytes: 6 }), "one\ner");
});

test("timestamps prefix each line once; since drops older records", async () => {
  const path = join(dir, "b.log");
  const old = criTimestamp(new Date(Date.UTC(2020, 0, 1)));
  const recent = criTimestamp(new Date(Date.UTC(2030, 0, 1)));
  await writeFile(path, `${old} stdout F old\n${recent} stdout P par\n${recent} stdout F tial\n`);
  assert.equal(await read(path, { timestamps: true }), `${old} old\n${recent} partial\n`);
  assert.equal(await read(path, { since: new Date(Date.UTC(2025, 0, 1)) }), "partial\n");
});

test("a follower sees writes as they come and ends when the container's log closes", async () => {
  const w = new ContainerLogWriter(join(dir, "c.log"));
  w.write("stdout", "first\n");
  const chunks: string[] = [];
  let sawFirst!: () => void;
  const firstSeen = new Promise<void>((r) => (sawFirst = r));
  const following = readLog(w.path, { follow: true }, (c) => {
    chunks.push(c);
    if (c.includes("first")) sawFirst();
    return Promise.resolve();
  }, w);
  await firstSeen;
  w.write("stdout", "second\n");
  await w.close();
  await following;
  assert.equal(chunks.join(""), "first\nsecond\n");
});

test("the FallbackToLogsOnError message is the last 80 lines, at most 2 KiB", async () => {
  const w = new ContainerLogWriter(join(dir, "d.log"));
  for (let i = 0; i < 100; i++) w.write("stdout", `line ${i}\n`);
  await w.close();
  const tail = await logTail(w.path);
  assert.ok(tail.startsWith("line 20\n") && tail.endsWith("line 99\n"));
  const w2 = new ContainerLogWriter(join(dir, "e.log"));
  w2.write("stderr", `${"x".repeat(5000)}\nend\n`);
  await w2.close();
  const tail2 = await logTail(w2.path);
  assert.equal(Buffer.byteLength(tail2), 2048);
  assert.ok(tail2.endsWith("x\nend\n"));
});
