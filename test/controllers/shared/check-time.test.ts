import assert from "node:assert/strict";
import { test } from "node:test";
import { stampIfChanged } from "../../../src/controllers/shared/check-time.ts";

interface S {
  version?: string;
  peers?: { id: string }[];
  conditions?: { type: string; message: string }[];
  lastCheckTime?: string;
}

test("stampIfChanged: the recorded time stays when nothing else changed; any change, or no recorded time, takes the new one", () => {
  const was: S = { version: "1.19.0", peers: [{ id: "1" }], conditions: [{ type: "Ready", message: "ok" }], lastCheckTime: "2026-12-03T10:00:00Z" };
  const now = "2026-12-03T10:01:00Z";
  const rows: { name: string; current: S | undefined; next: S; time: string }[] = [
    { name: "nothing new", current: was, next: { version: "1.19.0", peers: [{ id: "1" }], conditions: [{ type: "Ready", message: "ok" }] }, time: was.lastCheckTime! },
    { name: "next carries an older time", current: was, next: { ...was, lastCheckTime: "2020-01-01T00:00:00Z" }, time: was.lastCheckTime! },
    { name: "a new version", current: was, next: { ...was, version: "1.19.1" }, time: now },
    { name: "a peer more", current: was, next: { ...was, peers: [{ id: "1" }, { id: "2" }] }, time: now },
    { name: "a field gone", current: was, next: { version: "1.19.0", conditions: [{ type: "Ready", message: "ok" }] }, time: now },
    { name: "a condition's message", current: was, next: { ...was, conditions: [{ type: "Ready", message: "down" }] }, time: now },
    { name: "no status yet", current: undefined, next: { version: "1.19.0" }, time: now },
    { name: "a status without the time", current: { version: "1.19.0" }, next: { version: "1.19.0" }, time: now },
  ];
  for (const r of rows) assert.equal(stampIfChanged(r.current, r.next, "lastCheckTime", now).lastCheckTime, r.time, r.name);
  assert.deepEqual(stampIfChanged(was, { ...was, version: "2" }, "lastCheckTime", now), { ...was, version: "2", lastCheckTime: now }, "the rest of next is kept");
});
