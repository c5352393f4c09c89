/**
 * Measures the Qdrant emulator's resident memory while a multi-GiB snapshot is created, downloaded and
 * uploaded+recovered, to show that snapshot transfers stream (RSS stays flat) instead of buffering.
 *
 * Run: node_modules/.bin/node bench/emulator-snapshot-rss.ts [--gib 2] [--payload-mib 1] [--keep]
 *
 * How the size is reached: a collection of ⌈gib × 1024 / payload-mib⌉ points (2-dim vectors) whose payload
 * carries one string of `payload-mib` MiB. The emulator keeps payloads on disk, so the snapshot of that
 * collection is a little over `gib` GiB. The emulator runs in a child process; its RSS is read from
 * /proc/<pid>/status (VmRSS sampled every 20 ms, plus VmHWM reset through /proc/<pid>/clear_refs before
 * each phase) and reported per phase.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { request } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const MiB = 1 << 20;
const CLI = fileURLToPath(new URL("../test/emulator/cli.ts", import.meta.url));

function kib(field: string, pid: number): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

/** Samples the child's RSS while `work` runs; returns the peak (max of samples and VmHWM) and the result. */
async function measured<T>(pid: number, work: () => Promise<T>): Promise<{ peak: number; before: number; after: number; result: T; seconds: number }> {
  let hwmReset = true;
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    hwmReset = false;
  }
  const before = kib("VmRSS", pid);
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, kib("VmRSS", pid));
  }, 20);
  const started = Date.now();
  try {
    const result = await work();
    const seconds = (Date.now() - started) / 1000;
    peak = Math.max(peak, kib("VmRSS", pid), hwmReset ? kib("VmHWM", pid) : 0);
    return { peak, before, after: kib("VmRSS", pid), result, seconds };
  } finally {
    clearInterval(timer);
  }
}

async function call(base: string, method: string, p: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { result?: unknown; status?: unknown };
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json.status)}`);
  return json.result;
}

/** Streams a download, hashing it and discarding the bytes. */
async function download(url: string): Promise<{ bytes: number; sha256: string }> {
  const res = await fetch(url);
  if (!res.ok || res.body === null) throw new Error(`download: ${res.status}`);
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** Streams a file as the multipart `snapshot` field (no buffering on this side either). */
async function upload(url: string, file: string): Promise<string> {
  const boundary = `----emulatorbench${Date.now()}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="${path.basename(file)}"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const size = fs.statSync(file).size;
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: "POST", headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": head.length + size + tail.length } },
      (res) => {
        let text = "";
        res.on("data", (b: Buffer) => (text += b.toString()));
        res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`upload: ${res.statusCode} ${text}`))));
      },
    );
    req.on("error", reject);
    req.write(head);
    const src = fs.createReadStream(file, { highWaterMark: MiB });
    src.on("error", reject);
    src.on("end", () => req.end(tail));
    src.pipe(req, { end: false });
  });
}

const fmt = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { gib: { type: "string", default: "2" }, "payload-mib": { type: "string", default: "1" }, keep: { type: "boolean", default: false } } });
  const gib = Number(values.gib);
  const payloadMiB = Number(values["payload-mib"]);
  const points = Math.ceil((gib * 1024) / payloadMiB);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "emulator-rss-bench-"));
  const child: ChildProcess = spawn(process.execPath, [CLI, "--port", "0", "--data-dir", dataDir], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, QDRANT_EMULATOR_QUIET: "1" } });
  try {
    const pid = child.pid ?? 0;
    const [line] = (await once(createInterface({ input: child.stdout ?? process.stdin }), "line")) as [string];
    const { url } = JSON.parse(line) as { url: string };
    const idle = kib("VmRSS", pid);
    console.log(`emulator pid ${pid} at ${url}, idle RSS ${fmt(idle)}; building ${points} points × ${payloadMiB} MiB payload`);

    await call(url, "PUT", "/collections/big", { vectors: { size: 2, distance: "Dot" } });
    const filler = "q".repeat(payloadMiB * MiB - 64);
    const build = await measured(pid, async () => {
      const batch = Math.max(1, Math.floor(4 / payloadMiB));
      for (let i = 0; i < points; i += batch) {
        const ids = Array.from({ length: Math.min(batch, points - i) }, (_, k) => i + k);
        await call(url, "PUT", "/collections/big/points?wait=true", { points: ids.map((id) => ({ id, vector: [id, 1], payload: { id, blob: filler } })) });
      }
    });
    console.log(`build: ${build.seconds.toFixed(1)} s, RSS peak ${fmt(build.peak)} (large JSON request bodies are parsed in memory)`);

    const create = await measured(pid, () => call(url, "POST", "/collections/big/snapshots") as Promise<{ name: string; size: number; checksum: string }>);
    const snap = create.result;
    console.log(`snapshot ${snap.name}: ${(snap.size / 2 ** 30).toFixed(2)} GiB in ${create.seconds.toFixed(1)} s; RSS ${fmt(create.before)} → peak ${fmt(create.peak)}`);

    const dl = await measured(pid, () => download(`${url}/collections/big/snapshots/${snap.name}`));
    if (dl.result.bytes !== snap.size || dl.result.sha256 !== snap.checksum) throw new Error("downloaded bytes do not match the snapshot");
    console.log(`download: ${(dl.result.bytes / 2 ** 30).toFixed(2)} GiB in ${dl.seconds.toFixed(1)} s (checksum ok); RSS ${fmt(dl.before)} → peak ${fmt(dl.peak)}`);

    const file = path.join(dataDir, "peer-1", "snapshots", "big", snap.name);
    const up = await measured(pid, () => upload(`${url}/collections/restored/snapshots/upload?priority=snapshot&checksum=${snap.checksum}`, file));
    const count = (await call(url, "POST", "/collections/restored/points/count", {})) as { count: number };
    if (count.count !== points) throw new Error(`restored ${count.count} points, expected ${points}`);
    console.log(`upload+recover: ${up.seconds.toFixed(1)} s, ${count.count} points restored; RSS ${fmt(up.before)} → peak ${fmt(up.peak)}`);

    const summary = {
      snapshotBytes: snap.size,
      idleRss: idle,
      create: { before: create.before, peak: create.peak },
      download: { before: dl.before, peak: dl.peak, growth: dl.peak - dl.before },
      uploadRecover: { before: up.before, peak: up.peak, growth: up.peak - up.before },
    };
    console.log(JSON.stringify(summary));
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
    if (!values.keep) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
