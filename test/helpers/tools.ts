/**
 * Command-line tools the interop tests run as a person restoring by hand would: the real `zstd`.
 * (The real `age` is built from its Go module like the environment's other binaries: test/env/build.ts
 * ensureAgeBinaries.)
 *
 * zstd is no Go module and has no recipe: it is Debian's package. When `zstd` is not on PATH, it is
 * installed once with `apt-get update && apt-get install -y zstd` (the test machines run as root with
 * Debian's mirrors reachable); later runs find it on PATH. Installing beats vendoring a binary: the
 * test must prove the standard tool reads our objects.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

let zstd: Promise<string> | undefined;

/** The path of the `zstd` CLI, installing Debian's package once when it is missing. */
export function zstdPath(): Promise<string> {
  zstd ??= findOrInstallZstd();
  return zstd;
}

async function which(name: string): Promise<string | undefined> {
  try {
    const { stdout } = await run("sh", ["-c", `command -v ${name}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

async function findOrInstallZstd(): Promise<string> {
  const found = await which("zstd");
  if (found) return found;
  process.stderr.write("tools: zstd is not on PATH; installing Debian's zstd package (apt-get, once)\n");
  await run("sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zstd"], { maxBuffer: 64 << 20 });
  const installed = await which("zstd");
  if (!installed) throw new Error("apt-get install zstd finished but zstd is still not on PATH");
  return installed;
}
