import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { emulatorOnly } from "./harness.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

describe("command line", () => {
  it("prints the URLs as one JSON line, serves, and stops cleanly on SIGTERM", async (t) => {
    if (emulatorOnly(t, "starts the emulator's own process")) return;
    const child = spawn(process.execPath, [CLI, "--port", "0", "--peers", "2", "--api-key", "k"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, "line")) as [string];
      const info = JSON.parse(line) as { url: string; peers: string[]; adminUrl: string; dataDir: string };
      assert.equal(info.peers.length, 2);
      assert.equal(info.url, info.peers[0]);
      assert.equal(new URL(info.peers[1] ?? "").hostname, "127.0.0.2");
      assert.equal(new URL(info.peers[0] ?? "").port, new URL(info.peers[1] ?? "").port);
      const r = await fetch(`${info.url}/collections`, { headers: { "api-key": "k" } });
      assert.equal(r.status, 200);
      assert.equal((await fetch(`${info.adminUrl}/peers`)).status, 200);
      assert.ok(fs.existsSync(info.dataDir));
      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      assert.equal(code, 0);
      assert.ok(!fs.existsSync(info.dataDir), "the temporary data dir is removed");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses bad arguments", async (t) => {
    if (emulatorOnly(t, "starts the emulator's own process")) return;
    const child = spawn(process.execPath, [CLI, "--port", "abc"], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 1);
    assert.match(err, /--port must be a non-negative integer/);
  });
});
