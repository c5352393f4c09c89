/**
 * The crash-window registry (src/crash-windows.ts) and the code agree: every registered window is called
 * exactly once in src/, every `crashWindow("…")` call names a registered window, the comment right above
 * the call names the window too (so a reader of the code sees it), and there are at least 12, on both the
 * manager's and the Jobs' side. Plus the failpoint's own contract (src/runtime/crash-point.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { test } from "node:test";
import { CRASH_WINDOWS } from "../../src/crash-windows.ts";
import { CRASH_AT_ENV, CRASH_ONCE_FILE_ENV, shouldCrash } from "../../src/runtime/crash-point.ts";
import { REPO_ROOT } from "../env/paths.ts";

const SRC = join(REPO_ROOT, "src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

interface Call {
  name: string;
  where: string;
  commentAbove: string;
}

function calls(): Call[] {
  const out: Call[] = [];
  for (const file of sourceFiles(SRC)) {
    if (file.endsWith("crash-windows.ts")) continue;
    const lines = readFileSync(file, "utf8").split("\n");
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/crashWindow\(\s*"([^"]+)"\s*\)/g)) {
        out.push({ name: m[1]!, where: `${relative(REPO_ROOT, file)}:${i + 1}`, commentAbove: lines[i - 1] ?? "" });
      }
      // A call with anything but a literal name would escape this check.
      if (/crashWindow\((?!\s*")/.test(line) && !line.includes("function crashWindow")) out.push({ name: "<not a literal>", where: `${relative(REPO_ROOT, file)}:${i + 1}`, commentAbove: "" });
    });
  }
  return out;
}

test("every registered crash window is called exactly once in src/, and every call is registered", () => {
  const found = calls();
  const registered = Object.keys(CRASH_WINDOWS);
  for (const name of registered) {
    const at = found.filter((c) => c.name === name);
    assert.equal(at.length, 1, `${name}: called ${at.length} times (${at.map((c) => c.where).join(", ") || "nowhere"}); each window has one line`);
  }
  for (const c of found) assert.ok(registered.includes(c.name), `${c.where}: crashWindow("${c.name}") is not in src/crash-windows.ts`);
});

test("the comment right above each call names its window", () => {
  for (const c of calls()) assert.match(c.commentAbove, new RegExp(`^\\s*//.*Crash window ${c.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`), `${c.where}: the line above should say "Crash window ${c.name}"`);
});

test("at least 12 windows, covering backup, restore and rollout, on the manager's and the Jobs' side", () => {
  const names = Object.keys(CRASH_WINDOWS);
  assert.ok(names.length >= 12, `${names.length} windows`);
  const procs = new Set(Object.values(CRASH_WINDOWS).map((w) => w.process));
  assert.deepEqual([...procs].sort(), ["job", "manager"]);
  for (const area of ["backup", "restore", "rollout"]) assert.ok(names.some((n) => n.startsWith(area)), `no ${area} window`);
  for (const [name, w] of Object.entries(CRASH_WINDOWS)) {
    assert.match(name, /^[a-z-]+\.[a-z-]+$/, `${name}: <area>.<what-happened>-before-<what-did-not>`);
    assert.ok(w.leaves.length > 0 && w.closedBy.length > 0, `${name} says what it leaves and what closes it`);
  }
});

test("the failpoint fires only for its own name, and with a once-file only the first time", async () => {
  assert.equal(shouldCrash("a.b", {}), false);
  assert.equal(shouldCrash("a.b", { [CRASH_AT_ENV]: "a.c" }), false);
  assert.equal(shouldCrash("a.b", { [CRASH_AT_ENV]: "a.b" }), true);
  const once = join(await mkdtemp(join(tmpdir(), "crash-once-")), "fired");
  const env = { [CRASH_AT_ENV]: "a.b", [CRASH_ONCE_FILE_ENV]: once };
  assert.equal(shouldCrash("a.b", env), true);
  assert.ok(existsSync(once), "the once-file is made before the kill");
  assert.equal(shouldCrash("a.b", env), false, "the second time it passes");
});

test("a process at its crash point dies of SIGKILL, after saying so on stderr", () => {
  const script = `import { crashPoint } from ${JSON.stringify(join(SRC, "runtime", "crash-point.ts"))}; crashPoint("x.y"); console.log("survived");`;
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ["--input-type=module", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8" });
  const killed = run({ [CRASH_AT_ENV]: "x.y" });
  assert.equal(killed.signal, "SIGKILL");
  assert.doesNotMatch(killed.stdout, /survived/);
  assert.match(killed.stderr, /Killing the process at crash point.*|"point":"x.y"/);
  const passed = run({ [CRASH_AT_ENV]: "x.z" });
  assert.equal(passed.status, 0);
  assert.match(passed.stdout, /survived/);
});
