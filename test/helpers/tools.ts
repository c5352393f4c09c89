/**
 * Command-line tools the tests run as a person would: the real `zstd` (restoring by hand) and Lua 5.4
 * (Argo CD's health scripts).
 * (The real `age` is built from its Go module like the environment's other binaries: test/env/build.ts
 * ensureAgeBinaries.)
 *
 * Neither is a Go module with a recipe: they are Debian's packages. When one is not on PATH, it is
 * installed once with `apt-get update && apt-get install -y <package>` (the test machines run as root with
 * Debian's mirrors reachable); later runs find it on PATH. Installing beats vendoring a binary: the
 * tests must prove that the standard tools read what this project writes.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

const found = new Map<string, Promise<string>>();

/** The path of the `zstd` CLI, installing Debian's package once when it is missing. */
export function zstdPath(): Promise<string> {
  return findOrInstall("zstd", "zstd");
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
