/**
 * Materialises a pod's volumes as directories under `<podDir>/volumes/<name>`: emptyDir (kept across
 * container restarts and agent restarts, like a kubelet's), secret, configMap, downwardAPI and projected
 * (service account token from the TokenRequest API, configMap, secret, downwardAPI) as files with their
 * modes, and hostPath as the host path itself. Contents are written once when the pod starts; later
 * changes to a Secret or ConfigMap are not synced into a running pod (see README).
 */
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, posix } from "node:path";
import { podFieldValue, resourceFieldValue, type NodeResources } from "./downward-api.ts";
import { configMapValues, secretValues, type PodObjects } from "./objects.ts";
import type { DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from "./types.ts";

/** A volume ready to mount: where it is on the host, and whether containers get it read-only. */
export interface PreparedVolume {
  hostPath: string;
  kind: "dir" | "file";
  /** Secret, configMap, downwardAPI and projected volumes are always mounted read-only by a kubelet. */
  readOnly: boolean;
}

/** A volume that cannot be set up (yet): the pod waits in ContainerCreating, as with FailedMount. */
export class MountError extends Error {}

const DEFAULT_MODE = 0o644;

type Files = Map<string, { data: Buffer; mode: number }>;

function checkRelative(path: string): string {
  const n = normalize(path);
  if (posix.isAbsolute(n) || n === ".." || n.startsWith("../")) throw new MountError(`invalid file path ${JSON.stringify(path)}`);
  return n;
}

/** Keys (or the selected items) of a Secret/ConfigMap as files. */
function keyFiles(values: Map<string, Buffer>, items: KeyToPath[] | undefined, mode: number, kind: string, name: string, files: Files, optional: boolean): void {
  if (!items || items.length === 0) {
    for (const [k, v] of values) files.set(checkRelative(k), { data: v, mode });
    return;
  }
  for (const item of items) {
    const v = values.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new MountError(`configuration error: key ${JSON.stringify(item.key)} not found in ${kind} ${JSON.stringify(name)}`);
    }
    files.set(checkRelative(item.path), { data: v, mode: item.mode ?? mode });
  }
}

function downwardFiles(pod: Pod, items: DownwardAPIVolumeFile[] | undefined, mode: number, node: NodeResources, files: Files): void {
  for (const item of items ?? []) {
    let value: string;
    try {
      if (item.fieldRef) value = podFieldValue(pod, item.fieldRef, true);
      else if (item.resourceFieldRef) value = resourceFieldValue(pod, undefined, item.resourceFieldRef, node);
      else continue;
    } catch (err) {
      throw new MountError(`downwardAPI ${item.path}: ${(err as Error).message}`);
    }
    files.set(checkRelative(item.path), { data: Buffer.from(value), mode: item.mode ?? mode });
  }
}

async function secretFiles(objects: PodObjects, name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean, files: Files): Promise<void> {
  const secret = await objects.secret(name);
  if (!secret) {
    if (optional) return;
    throw new MountError(`secret ${JSON.stringify(name)} not found`);
  }
  keyFiles(secretValues(secret), items, mode, "secret", name, files, optional);
}

async function configMapFiles(objects: PodObjects, name: string, items: KeyToPath[] | undefined, mode: number, optional: boolean, files: Files): Promise<void> {
  const cm = await objects.configMap(name);
  if (!cm) {
    if (optional) return;
    throw new MountError(`configmap ${JSON.stringify(name)} not found`);
  }
  keyFiles(configMapValues(cm), items, mode, "configmap", name, files, optional);
}

/** Writes `files` into a fresh dir and swaps it in, so a retry never sees half a volume. */
function writeVolume(dir: string, files: Files): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o755 });
  for (const [path, f] of files) {
    const full = join(tmp, path);
    mkdirSync(dirname(full), { recursive: true, mode: 0o755 });
    writeFileSync(full, f.data);
    chmodSync(full, f.mode);
  }
  chmodSync(tmp, 0o755);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/**
 * The kubelet's SetVolumeOwnership for a pod with fsGroup: the group owns every file, with group read
 * (and write, for writable volumes) access, and directories are setgid so new files inherit the group.
 */
function applyFsGroup(path: string, gid: number, readOnly: boolean): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  lchownSync(path, st.uid, gid);
  const mask = (readOnly ? 0o440 : 0o660) | (st.isDirectory() ? 0o110 | 0o2000 : 0);
  chmodSync(path, (st.mode & 0o7777) | mask);
  if (st.isDirectory()) for (const name of readdirSync(path)) applyFsGroup(join(path, name), gid, readOnly);
}

function hostPathVolume(v: NonNullable<Volume["hostPath"]>): PreparedVolume {
  const type = v.type ?? "";
  if (type === "DirectoryOrCreate") mkdirSync(v.path, { recursive: true, mode: 0o755 });
  if (type === "FileOrCreate" && !existsSync(v.path)) {
    mkdirSync(dirname(v.path), { recursive: true });
    writeFileSync(v.path, "", { mode: 0o644 });
  }
  if (!existsSync(v.path)) throw new MountError(`hostPath ${type ? "type check failed: " : ""}${v.path} does not exist`);
  const isDir = statSync(v.path).isDirectory();
  if ((type === "Directory" && !isDir) || (type === "File" && isDir)) throw new MountError(`hostPath type check failed: ${v.path} is not a ${type}`);
  return { hostPath: v.path, kind: isDir ? "dir" : "file", readOnly: false };
}

/** Prepares every volume of `pod`; throws MountError (or an API error) when one cannot be set up now. */
export async function prepareVolumes(pod: Pod, podDir: string, objects: PodObjects, node: NodeResources): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec.volumes ?? []) {
    const dir = join(podDir, "volumes", v.name);
    const files: Files = new Map();
    const fsGroup = pod.spec.securityContext?.fsGroup;
    if (v.emptyDir) {
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, 0o777);
      if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, false);
      out.set(v.name, { hostPath: dir, kind: "dir", readOnly: false });
      continue;
    }
    if (v.hostPath) {
      out.set(v.name, hostPathVolume(v.hostPath));
      continue;
    }
    if (v.secret) {
      await secretFiles(objects, v.secret.secretName ?? "", v.secret.items, v.secret.defaultMode ?? DEFAULT_MODE, v.secret.optional ?? false, files);
    } else if (v.configMap) {
      await configMapFiles(objects, v.configMap.name ?? "", v.configMap.items, v.configMap.defaultMode ?? DEFAULT_MODE, v.configMap.optional ?? false, files);
    } else if (v.downwardAPI) {
      downwardFiles(pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_MODE, node, files);
    } else if (v.projected) {
      const mode = v.projected.defaultMode ?? DEFAULT_MODE;
      for (const src of v.projected.sources ?? []) {
        if (src.secret) await secretFiles(objects, src.secret.name, src.secret.items, mode, src.secret.optional ?? false, files);
        else if (src.configMap) await configMapFiles(objects, src.configMap.name, src.configMap.items, mode, src.configMap.optional ?? false, files);
        else if (src.downwardAPI) downwardFiles(pod, src.downwardAPI.items, mode, node, files);
        else if (src.serviceAccountToken) {
          const token = await objects.serviceAccountToken(pod, src.serviceAccountToken.audience, src.serviceAccountToken.expirationSeconds);
          files.set(checkRelative(src.serviceAccountToken.path), { data: Buffer.from(token), mode });
        } else throw new MountError(`projected volume ${JSON.stringify(v.name)}: source ${Object.keys(src).join(",")} is not supported by the node agent`);
      }
    } else {
      const type = Object.keys(v).filter((k) => k !== "name").join(",") || "unknown";
      throw new MountError(`volume ${JSON.stringify(v.name)}: type ${type} is not supported by the node agent (emptyDir, secret, configMap, downwardAPI, projected, hostPath are)`);
    }
    writeVolume(dir, files);
    if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, true);
    out.set(v.name, { hostPath: dir, kind: "dir", readOnly: true });
  }
  return out;
}
