/**
 * What the image would hold, without a container engine: the Dockerfile's own instructions are replayed
 * in a scratch directory, each stage a folder standing for its /app — COPY from the repository or from
 * the build stage, RUN with `sh -c` there, ENV into the environment — and the ENTRYPOINT is then started
 * from the final folder with the production dependencies alone. So a Dockerfile that forgets a file, a
 * build step that fails, or a run-time import of a dev package fails here, from the Dockerfile as it is
 * (a second, hand-kept list of steps could drift from it).
 *
 * Not checked (no engine): the base image's contents, USER 65532 (the scratch folders belong to the test
 * user), the read-only root filesystem; the README's "Image" section says so.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "../env/paths.ts";

const run = promisify(execFile);

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions by stage, continuation lines joined and comments dropped. */
function stages(dockerfile: string): Array<{ name?: string; steps: Instruction[] }> {
  const joined = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const out: Array<{ name?: string; steps: Instruction[] }> = [];
  for (const line of joined) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op!.toUpperCase() === "FROM") {
      const as = /\bAS\s+(\S+)/i.exec(args);
      out.push({ ...(as ? { name: as[1]! } : {}), steps: [] });
    } else out.at(-1)!.steps.push({ op: op!.toUpperCase(), args });
  }
  return out;
}

test("the Dockerfile, replayed without an engine, builds an /app whose entrypoint starts with production dependencies only", { timeout: 600_000 }, async (t) => {
  const scratch = await mkdtemp(join(tmpdir(), "image-replay-"));
  t.after(() => rm(scratch, { recursive: true, force: true }));
  const all = stages(await readFile(join(REPO_ROOT, "Dockerfile"), "utf8"));
  assert.equal(all.length, 2, "a build stage and the final one");
  const dirs = new Map<string, string>();
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root" };
  let entrypoint: string[] | undefined;
  for (const [i, stage] of all.entries()) {
    const app = join(scratch, stage.name ?? `stage-${i}`);
    await mkdir(app, { recursive: true });
    if (stage.name) dirs.set(stage.name, app);
    for (const { op, args } of stage.steps) {
      if (op === "WORKDIR") assert.equal(args, "/app", "every stage works in /app, which the replay's folder stands for");
      else if (op === "COPY") {
        const from = /^--from=(\S+)\s+/.exec(args);
        const parts = args.replace(/^--from=\S+\s+/, "").split(/\s+/);
        const dest = parts.pop()!;
        for (const src of parts) {
          const source = from ? join(dirs.get(from[1]!)!, src.replace(/^\/app\//, "")) : join(REPO_ROOT, src);
          const target = dest.endsWith("/") ? join(app, dest, src.split("/").filter(Boolean).at(-1)!) : join(app, dest);
          await cp(source, target, { recursive: true });
        }
      } else if (op === "RUN") await run("sh", ["-c", args], { cwd: app, env, maxBuffer: 64 << 20 });
      else if (op === "ENV") for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
      else if (op === "ENTRYPOINT") entrypoint = JSON.parse(args) as string[];
      else assert.ok(["USER", "EXPOSE", "LABEL", "ARG"].includes(op), `the replay knows ${op}`);
    }
  }
  const final = join(scratch, `stage-${all.length - 1}`);
  assert.deepEqual(entrypoint?.slice(0, 1), ["node"]);
  const mainJs = entrypoint[1]!.replace(/^\/app\//, `${final}/`);

  // Production dependencies only: what npm installed in the image (its record, node_modules/.package-lock.json)
  // is exactly the lockfile's packages not marked dev (a dev package stays where a production one needs
  // it, as typescript does, a peer of @qdrant/js-client-rest).
  type Lock = { packages: Record<string, { dev?: boolean }> };
  const lock = JSON.parse(await readFile(join(REPO_ROOT, "package-lock.json"), "utf8")) as Lock;
  const expected = new Set(Object.entries(lock.packages).filter(([path, p]) => path !== "" && !p.dev).map(([path]) => path));
  const actual = new Set(Object.keys((JSON.parse(await readFile(join(final, "node_modules", ".package-lock.json"), "utf8")) as Lock).packages));
  assert.deepEqual([...actual].filter((p) => !expected.has(p)), [], "nothing in the image beyond the production tree");
  assert.deepEqual([...expected].filter((p) => !actual.has(p)), [], "the whole production tree is in the image");
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
  for (const dev of ["eslint", "typescript-eslint", "@peculiar/x509", "node"]) {
    assert.ok(dev in pkg.devDependencies && !actual.has(join("node_modules", dev)), `dev package ${dev} is not in the image`);
  }
  assert.ok(!(await readdir(final)).includes("src"), "the image holds dist/, not the sources");

  // The entrypoint starts, with Node 26 as the image's base has it, for the manager and the Jobs alike.
  const node = process.execPath;
  const version = await run(node, [mainJs, "version"], { cwd: final, env });
  assert.match(version.stdout, /\d+\.\d+\.\d+/);
  const manager = await run(node, [mainJs, "manager", "--help"], { cwd: final, env });
  assert.match(manager.stdout + manager.stderr, /--namespaces/);
  for (const job of ["backup", "restore", "copy"]) {
    // Without its plan a Job command refuses to start, naming what is missing: it loaded all its modules.
    const out = await run(node, [mainJs, "job", job], { cwd: final, env }).then(
      (r) => ({ code: 0, text: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, text: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
    );
    assert.notEqual(out.code, 0, `job ${job} without a plan fails`);
    assert.doesNotMatch(out.text, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)/, `job ${job} loads: ${out.text}`);
    assert.match(out.text, /PLAN|plan/, `job ${job} names its missing plan: ${out.text}`);
  }
});
