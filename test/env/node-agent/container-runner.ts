/**
 * Starts one instance of a container: resolves its image from the image map, builds its environment and
 * argv, plans its root (volumes, termination-message file, workingDir) and launches it. What a runtime
 * would refuse is reported the way a kubelet reports it: an image not in the map is ErrImagePull, a
 * missing Secret key is CreateContainerConfigError, a command that cannot be found is a StartError.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { ContainerLogWriter } from "./container-log.ts";
import { startContainerProcess, type ContainerProcess } from "./container-process.ts";
import type { NodeResources } from "./downward-api.ts";
import { ContainerConfigError, containerEnv, expandArgv } from "./env.ts";
import { expand, mappingFuncFor } from "./expansion.ts";
import { containerArgv, resolveImage, type ResolvedImage } from "./image.ts";
import { launchScript } from "./launch-script.ts";
import { planRootfs, PlanError, type MountRequest } from "./mount-plan.ts";
import type { PodObjects } from "./objects.ts";
import type { ProcessRecords } from "./process-records.ts";
import type { ImageConfig } from "../images.ts";
import type { Container, Pod } from "./types.ts";
import type { PreparedVolume } from "./volumes.ts";
import { processIdentity } from "./security.ts";

export interface RunnerEnv {
  stateDir: string;
  images: Record<string, ImageConfig>;
  node: NodeResources;
  serviceEnv: Map<string, string>;
  records: ProcessRecords;
}

export type LaunchResult =
  | { kind: "started"; proc: ContainerProcess; image: ResolvedImage; log: ContainerLogWriter; terminationFile: string }
  | { kind: "waiting"; reason: "ErrImagePull" | "CreateContainerConfigError"; message: string }
  | { kind: "startError"; message: string; image: ResolvedImage };

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function podDir(stateDir: string, pod: Pod): string {
  return join(stateDir, "pods", pod.metadata.uid ?? "unknown");
}

/** Where instance `restartCount` of a container logs, in the kubelet's /var/log/pods layout. */
export function containerLogPath(stateDir: string, pod: Pod, container: string, restartCount: number): string {
  const { namespace, name, uid } = pod.metadata;
  return join(stateDir, "logs", `${namespace}_${name}_${uid}`, container, `${restartCount}.log`);
}

/** The host path behind a container path: through the longest matching mount, else the same path. */
function hostPathOf(containerPath: string, mounts: MountRequest[]): string {
  let best: MountRequest | undefined;
  for (const m of mounts) {
    const prefix = m.containerPath.replace(/\/+$/, "");
    if ((containerPath === prefix || containerPath.startsWith(`${prefix}/`)) && (!best || prefix.length > best.containerPath.length)) best = m;
  }
  return best ? best.hostPath + containerPath.slice(best.containerPath.replace(/\/+$/, "").length) : containerPath;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Finds the command as execvp would inside the container; a message like runc's when it cannot. */
function lookPath(cmd: string, env: Map<string, string>, workingDir: string, mounts: MountRequest[]): string | undefined {
  if (cmd.includes("/")) {
    const full = posix.isAbsolute(cmd) ? cmd : posix.join(workingDir, cmd);
    return executable(hostPathOf(full, mounts)) ? undefined : `exec: "${cmd}": stat ${cmd}: no such file or directory`;
  }
  for (const dir of (env.get("PATH") ?? DEFAULT_PATH).split(":")) {
    if (dir && executable(hostPathOf(posix.join(dir, cmd), mounts))) return undefined;
  }
  return `exec: "${cmd}": executable file not found in $PATH`;
}

export interface LaunchParams {
  env: RunnerEnv;
  pod: Pod;
  container: Container;
  volumes: Map<string, PreparedVolume>;
  restartCount: number;
  objects: PodObjects;
}

export async function launchContainer(p: LaunchParams): Promise<LaunchResult> {
  const { pod, container } = p;
  const image = resolveImage(p.env.images, container.image ?? "");
  if (!image) {
    return { kind: "waiting", reason: "ErrImagePull", message: `image "${container.image}" is not in the node agent's image map (test/env/images.ts); there is no container runtime to pull it` };
  }
  let built;
  try {
    built = await containerEnv({ pod, container, image: image.config, objects: p.objects, node: p.env.node, serviceEnv: p.env.serviceEnv });
  } catch (err) {
    if (err instanceof ContainerConfigError) return { kind: "waiting", reason: "CreateContainerConfigError", message: err.message };
    throw err;
  }
  const who = processIdentity(pod, container);
  if ("error" in who) return { kind: "waiting", reason: "CreateContainerConfigError", message: who.error };
  const hostname = (pod.spec.hostname || pod.metadata.name || "pod").slice(0, 63);
  const env = built.env;
  if (!env.has("HOSTNAME")) env.set("HOSTNAME", hostname);

  const dir = join(podDir(p.env.stateDir, pod), "containers", container.name, String(p.restartCount));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "root"), { recursive: true });
  const terminationFile = join(dir, "termination-log");
  writeFileSync(terminationFile, "", { mode: 0o666 });

  const mounts: MountRequest[] = [];
  const subMapping = mappingFuncFor(built.kubeEnv);
  for (const vm of container.volumeMounts ?? []) {
    const vol = p.volumes.get(vm.name);
    if (!vol) return { kind: "waiting", reason: "CreateContainerConfigError", message: `cannot find volume "${vm.name}" to mount into container "${container.name}"` };
    let hostPath = vol.hostPath;
    const sub = vm.subPathExpr ? expand(vm.subPathExpr, subMapping) : vm.subPath;
    if (sub) {
      if (posix.isAbsolute(sub) || posix.normalize(sub).startsWith("..")) return { kind: "waiting", reason: "CreateContainerConfigError", message: `invalid subPath ${JSON.stringify(sub)}` };
      hostPath = join(vol.hostPath, sub);
      if (!existsSync(hostPath)) mkdirSync(hostPath, { recursive: true }); // as the kubelet does for a missing subPath
    }
    const isDir = statSync(hostPath).isDirectory();
    mounts.push({ containerPath: vm.mountPath, hostPath, kind: isDir ? "dir" : "file", readOnly: Boolean(vm.readOnly) || vol.readOnly });
  }
  // An image's files live on the host here (the repository, the Node binary); a real image has its own
  // filesystem, which a volume at /tmp cannot hide. So where a volume would shadow them (the repository
  // cloned under /tmp, an emptyDir at /tmp), they are bound again on top of it.
  for (const path of image.config.paths ?? []) {
    const shadowed = mounts.some((m) => path === m.containerPath || path.startsWith(m.containerPath.replace(/\/?$/, "/")));
    if (shadowed) mounts.push({ containerPath: path, hostPath: path, kind: "dir", readOnly: false });
  }
  mounts.push({ containerPath: container.terminationMessagePath || "/dev/termination-log", hostPath: terminationFile, kind: "file", readOnly: false });

  const workingDir = container.workingDir || image.config.workingDir || "/";
  const argv = expandArgv(containerArgv(image.config, container), built.kubeEnv);
  if (argv.length === 0) return { kind: "startError", message: "no command specified", image };
  const notFound = lookPath(argv[0]!, env, workingDir, mounts);
  if (notFound) return { kind: "startError", message: `failed to start container "${container.name}": ${notFound}`, image };

  let ops;
  try {
    ops = planRootfs({ rootDir: join(dir, "root"), mounts, workingDir, ownedDirs: [p.env.stateDir] });
  } catch (err) {
    if (err instanceof PlanError) return { kind: "startError", message: `failed to create the container root: ${err.message}`, image };
    throw err;
  }
  const script = launchScript({
    ops,
    rootDir: join(dir, "root"),
    hostname,
    workingDir,
    env: [...env.entries()],
    argv,
    errorFile: join(dir, "start.err"),
    ...(who.identity ? { identity: who.identity } : {}),
  });
  const log = new ContainerLogWriter(containerLogPath(p.env.stateDir, pod, container.name, p.restartCount));
  const proc = startContainerProcess({
    script,
    scriptPath: join(dir, "start.sh"),
    errorFile: join(dir, "start.err"),
    log,
    records: p.env.records,
    record: { podUID: pod.metadata.uid ?? "", pod: `${pod.metadata.namespace}/${pod.metadata.name}`, container: container.name },
  });
  return { kind: "started", proc, image, log, terminationFile };
}

/** The message file as the kubelet reads it: at most the last 4 KiB. */
export function readTerminationMessage(path: string): string {
  try {
    const buf = readFileSync(path);
    return (buf.length > 4096 ? buf.subarray(buf.length - 4096) : buf).toString("utf8");
  } catch {
    return "";
  }
}
