/**
 * A client that goes away in the middle of an upload (a restore Job killed, a signal aborting the call)
 * must cost the emulator nothing but that upload: the spooled file is removed and the server keeps
 * answering. Before the fix, destroying the spool file while one of its writes was in flight raised an
 * unhandled ERR_STREAM_DESTROYED and took the whole process down (the shared test environment with it).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { AdminClient } from "./admin-client.ts";
import { startEmulator } from "./index.ts";
import { eventually } from "../helpers/eventually.ts";

test("uploads cut off mid-body leave the emulator answering and no spooled file behind", async (t) => {
  const emu = await startEmulator();
  t.after(() => emu.stop());
  const boundary = "----cut-off";
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="snapshot"; filename="x.snapshot"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let i = 0; i < 40; i++) {
    await new Promise<void>((resolve) => {
      const req = request(`${emu.url}/collections/cut_${i}/snapshots/upload?wait=true`, {
        method: "POST",
        headers: { "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(head.length + 100 * chunk.length) },
      });
      req.on("error", () => resolve());
      req.on("close", () => resolve());
      req.write(head);
      // A few chunks, each a write the emulator spools to disk, then the connection is cut while the
      // last of them may still be in flight.
      let sent = 0;
      const more = () => {
        req.write(chunk);
        if (++sent < 1 + (i % 5)) setImmediate(more);
        else req.destroy();
      };
      more();
    });
  }
  const res = await fetch(`${emu.url}/collections`);
  assert.equal(res.status, 200);
  const names = ((await res.json()) as { result: { collections: Array<{ name: string }> } }).result.collections.map((c) => c.name);
  assert.deepEqual(names.filter((n) => n.startsWith("cut_")), [], "no cut-off upload became a collection");
  const admin = new AdminClient(emu.adminUrl);
  // The server notices each cut-off connection on its own time: its spool files go once it has.
  const leftovers = async () => {
    const files = await admin.files(1);
    return [...files.snapshots, ...files.tmp].filter((f) => f.path.includes("cut_") || f.path.includes("upload"));
  };
  await eventually("no spooled upload file left", async () => ((await leftovers()).length === 0 ? true : undefined), 10_000);
});
