/**
 * Builds the environment's binaries from the Go recipes in test/env/go and caches them under
 * ~/.cache/qdrant-operator/bin/<recipe>-<hash>/. The hash covers the recipe's files and the Go version,
 * so changing a pinned version rebuilds and nothing else does. Builds take a file lock: two test runs
 * starting at once on a cold machine build once, the second waits.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { CACHE_DIR, RECIPES_DIR } from "./paths.ts";

const run = promisify(execFile);

interface Recipe {
  /** Folder under test/env/go. */
  dir: string;
  /** Go packages to build, each becoming a binary named after its last path element. */
  packages: string[];
  /** Linker -X settings, e.g. the version the binaries report. */
  ldflags?: string[];
}

/** Flags every recipe is built with; part of the cache key. Stripped binaries link faster and are half the size. */
const BUILD_FLAGS = ["-trimpath", "-s", "-w", "-buildvcs=false", "CGO_ENABLED=0"];

const K8S_VERSION = "v1.36.3";
/** What Kubernetes' own build (hack/lib/version.sh) stamps in, so `kubectl version` reads v1.36.3. */
const k8sVersionFlags = ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"].flatMap((pkg) => [
  `-X ${pkg}.gitVersion=${K8S_VERSION}`,
  `-X ${pkg}.gitMajor=1`,
  `-X ${pkg}.gitMinor=36`,
  `-X ${pkg}.gitTreeState=clean`,
]);

const RECIPES: Record<string, Recipe> = {
  // The main package "." is named after its module path's last element: etcd.
  etcd: { dir: "etcd", packages: ["."] },
  k8s: {
    dir: "k8s",
    packages: ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"].map((c) => `k8s.io/kubernetes/cmd/${c}`),
    ldflags: k8sVersionFlags,
  },
  minio: { dir: "minio", packages: ["github.com/minio/minio", "./cmd/minio-user"] },
  // The age reference CLI, for the codec's interop tests (test/backup/codec-interop.test.ts).
  age: { dir: "age", packages: ["filippo.io/age/cmd/age", "filippo.io/age/cmd/age-keygen"] },
  // helm v4 for the chart tests (test/chart); the -X makes `helm version` read v4.3.2 instead of "v4.3".
  helm: { dir: "helm", packages: ["helm.sh/helm/v4/cmd/helm"], ldflags: ["-X helm.sh/helm/v4/internal/version.version=v4.3.2"] },
  // promtool, for the alert rules' and the dashboard's tests (test/monitoring).
  prometheus: { dir: "prometheus", packages: ["github.com/prometheus/prometheus/cmd/promtool"] },
};

/** Absolute paths of every binary the environment runs. */
export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  minio: string;
  minioUser: string;
  /** filippo.io/age's `age` and `age-keygen`, which no component runs: tests read stored objects with them. */
  age: string;
  ageKeygen: string;
}

async function recipeHash(recipe: Recipe): Promise<string> {
  const h = createHash("sha256");
  const { stdout } = await run("go", ["env", "GOVERSION"]);
  h.update(stdout.trim());
  h.update(JSON.stringify(recipe));
  h.update(BUILD_FLAGS.join(" "));
  const dir = join(RECIPES_DIR, recipe.dir);
  const files = (await readdir(dir, { recursive: true })).filter((f) => /\.(go|mod|sum)$/.test(f)).sort();
  for (const f of files) {
    h.update(f);
    h.update(await readFile(join(dir, f)));
  }
  return h.digest("hex").slice(0, 16);
}

/** Holds an exclusive lock file; a lock whose holder died is taken over. */
async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const fh = await open(path, "wx");
      await fh.write(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(await readFile(path, "utf8").catch(() => "0"));
      if (!holder || !isAlive(holder)) {
        await rm(path, { force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 2000)); // polling another process's build; no event to wait on
    }
  }
  try {
    return await fn();
  } finally {
    await rm(path, { force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes builds of the same recipe under other hashes: a version bump should not keep 1 GB around. */
async function pruneOldBuilds(name: string, keep: string): Promise<void> {
  const binDir = join(CACHE_DIR, "bin");
  for (const entry of await readdir(binDir)) {
    const path = join(binDir, entry);
    if (path !== keep && entry.startsWith(`${name}-`) && !entry.includes(".tmp-")) await rm(path, { recursive: true, force: true });
  }
}

async function buildRecipe(name: string, recipe: Recipe, log: (line: string) => void): Promise<string> {
  const hash = await recipeHash(recipe);
  const outDir = join(CACHE_DIR, "bin", `${name}-${hash}`);
  if (existsSync(join(outDir, ".complete"))) return outDir;
  await mkdir(join(CACHE_DIR, "bin"), { recursive: true });
  return withLock(join(CACHE_DIR, "bin", `${name}.lock`), async () => {
    if (existsSync(join(outDir, ".complete"))) return outDir;
    const tmp = `${outDir}.tmp-${process.pid}`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    log(`testenv: building ${name} from test/env/go/${recipe.dir} (first run only, ~9 min for all three on 2 cores)`);
    const started = Date.now();
    // Go's own output (module downloads, compiler chatter) goes to a log, shown only if the build fails,
    // so a cold run prints one progress line per recipe.
    const logPath = join(CACHE_DIR, "bin", `${name}.build.log`);
    const logFd = openSync(logPath, "w");
    try {
      await new Promise<void>((resolve, reject) => {
        const ldflags = ["-s", "-w", ...(recipe.ldflags ?? [])].join(" ");
        const child = spawn("go", ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", tmp + "/", ...recipe.packages], {
          cwd: join(RECIPES_DIR, recipe.dir),
          env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false", CGO_ENABLED: "0" },
          stdio: ["ignore", logFd, logFd],
        });
        child.on("error", reject);
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`go build of ${name} exited ${code}; see ${logPath}`))));
      });
    } catch (err) {
      const tail = (await readFile(logPath, "utf8").catch(() => "")).split("\n").slice(-30).join("\n");
      log(`testenv: building ${name} failed; the end of ${logPath}:\n${tail}`);
      throw err;
    } finally {
      closeSync(logFd);
    }
    await open(join(tmp, ".complete"), "w").then((f) => f.close());
    await rm(outDir, { recursive: true, force: true });
    await rename(tmp, outDir);
    await pruneOldBuilds(name, outDir);
    log(`testenv: built ${name} in ${Math.round((Date.now() - started) / 1000)} s`);
    return outDir;
  });
}

/** Returns the cached binaries, building whatever is missing. */
export async function ensureBinaries(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<Binaries> {
  const etcd = await buildRecipe("etcd", RECIPES.etcd!, log);
  const k8s = await buildRecipe("k8s", RECIPES.k8s!, log);
  const minio = await buildRecipe("minio", RECIPES.minio!, log);
  const age = await ensureAgeBinaries(log);
  await ensureHelmBinaries(log);
  await ensureMonitoringCrds();
  await ensurePromtoolBinary(log);
  const bins: Binaries = {
    etcd: join(etcd, "etcd"),
    kubeApiserver: join(k8s, "kube-apiserver"),
    kubeControllerManager: join(k8s, "kube-controller-manager"),
    kubeScheduler: join(k8s, "kube-scheduler"),
    kubectl: join(k8s, "kubectl"),
    minio: join(minio, "minio"),
    minioUser: join(minio, "minio-user"),
    ...age,
  };
  for (const path of Object.values(bins) as string[]) await stat(path);
  return bins;
}

/**
 * The age CLI's binaries, built (or found in the cache) on their own: ensureBinaries builds them with the
 * rest, and a test run against an environment started before they existed builds them here (~1 min cold).
 */
export async function ensureAgeBinaries(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<{ age: string; ageKeygen: string }> {
  const dir = await buildRecipe("age", RECIPES.age!, log);
  const bins = { age: join(dir, "age"), ageKeygen: join(dir, "age-keygen") };
  for (const path of Object.values(bins)) await stat(path);
  return bins;
}

/**
 * helm v4 (built like age: by ensureBinaries with the rest, or here for an environment started before the
 * recipe existed). A cold build took 143 s on 2 cores (modules downloaded); see charts/README.md.
 */
export async function ensureHelmBinaries(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<{ helm: string }> {
  const dir = await buildRecipe("helm", RECIPES.helm!, log);
  const bins = { helm: join(dir, "helm") };
  await stat(bins.helm);
  return bins;
}

/**
 * The folder holding prometheus-operator's CRD YAMLs (ServiceMonitor, PrometheusRule, …) of the version
 * pinned in test/env/go/prometheus-operator, which the chart's dry-run apply needs installed. Nothing is
 * built: `go mod download` puts the module in Go's module cache (verified against the recipe's go.sum) and
 * names its folder, so a second call is a cache hit.
 */
export async function ensureMonitoringCrds(): Promise<string> {
  const { stdout } = await run("go", ["mod", "download", "-json", "github.com/prometheus-operator/prometheus-operator"], {
    cwd: join(RECIPES_DIR, "prometheus-operator"),
    env: { ...process.env, GOFLAGS: "-mod=readonly" },
  });
  const dir = join((JSON.parse(stdout) as { Dir: string }).Dir, "example", "prometheus-operator-crd");
  await stat(dir);
  return dir;
}

/**
 * promtool (github.com/prometheus/prometheus/cmd/promtool), built (or found in the cache) on its own like
 * the age CLI: ensureBinaries builds it with the rest so a cold `npm test` pays once; the monitoring tests
 * call this and get the cached path at once.
 */
export async function ensurePromtoolBinary(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): Promise<string> {
  const dir = await buildRecipe("prometheus", RECIPES.prometheus!, log);
  const path = join(dir, "promtool");
  await stat(path);
  return path;
}
