/**
 * Plans a container's root filesystem without a container runtime. The container runs chrooted into a
 * tmpfs, inside its own mount namespace, whose entries are bind mounts of the host's top-level entries,
 * so every host path (the Node binary, the repository, /tmp) is where the process expects it. Volumes
 * and the termination-message file are then bind-mounted at the paths the pod spec names.
 *
 * A mount path whose parent does not exist on the host (e.g. /etc/creds) cannot be created on the host:
 * instead the nearest existing host directory is "split": replaced, inside the namespace only, by a
 * tmpfs holding bind mounts of each of its entries, in which the missing directory can be made. /dev is
 * a small tmpfs like a runtime's (null, zero, random, pts, shm…), which is where /dev/termination-log
 * lives. Directories under the agent's own state dir (volume dirs) are created in place.
 *
 * The planner first builds the desired tree, then emits the operations that produce it, parents first;
 * launch-script.ts turns them into a shell script run in the new namespace. Host lookups go through
 * `HostFs`, so unit tests can plan against a fake tree.
 */
import { lstatSync, readdirSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

export type EntryKind = "dir" | "file" | "symlink" | "other";

/** Read-only view of the host file system the planner needs. */
export interface HostFs {
  kind(path: string): EntryKind | undefined;
  mode(path: string): number;
  list(path: string): string[];
  readlink(path: string): string;
}

export const realHostFs: HostFs = {
  kind(path) {
    try {
      const st = lstatSync(path);
      return st.isSymbolicLink() ? "symlink" : st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
    } catch {
      return undefined;
    }
  },
  mode: (path) => lstatSync(path).mode & 0o7777,
  list: (path) => readdirSync(path).sort(),
  readlink: (path) => readlinkSync(path),
};

export type MountOp =
  | { op: "tmpfs"; path: string; mode: number }
  | { op: "bind"; src: string; dst: string; recursive: boolean }
  | { op: "readonly"; path: string }
  | { op: "mkdir"; path: string }
  | { op: "touch"; path: string }
  | { op: "symlink"; target: string; path: string };

export interface MountRequest {
  /** Absolute path inside the container. */
  containerPath: string;
  /** What to bind there. */
  hostPath: string;
  kind: "dir" | "file";
  readOnly: boolean;
}

export interface PlanInput {
  /** Host directory the container's root tmpfs is mounted on. */
  rootDir: string;
  mounts: MountRequest[];
  /** Created if missing, as runc does for a workingDir. */
  workingDir: string;
  /** Host dirs the agent owns (its state dir): missing dirs below them are made in place, not by splitting. */
  ownedDirs: string[];
}

interface Bind {
  src: string;
  recursive: boolean;
  readOnly: boolean;
}

/**
 * A directory is either a tmpfs of our own ("synth": its children are all listed, and a split host dir
 * mounts a fresh tmpfs) or a host directory seen through a bind (children looked up lazily).
 * `create` marks entries that must be made (mkdir/touch) before anything is mounted on them.
 */
type Node =
  | { kind: "synth"; children: Map<string, Node>; tmpfsMode?: number; create: boolean }
  | { kind: "host"; hostPath: string; children: Map<string, Node>; bind?: Bind; create: boolean }
  | { kind: "file"; bind?: Bind; create: boolean }
  | { kind: "symlink"; target: string; create: boolean };

type DirNode = Extract<Node, { children: Map<string, Node> }>;

const DEV_NODES = ["null", "zero", "full", "random", "urandom", "tty", "ptmx"];
const DEV_DIRS = ["pts", "shm", "mqueue"];
const DEV_LINKS: Record<string, string> = { fd: "/proc/self/fd", stdin: "/proc/self/fd/0", stdout: "/proc/self/fd/1", stderr: "/proc/self/fd/2" };

export class PlanError extends Error {}

function isDir(n: Node | undefined): n is DirNode {
  return n !== undefined && (n.kind === "synth" || n.kind === "host");
}

/** Plans the root: the operations, in order, that build it inside a fresh mount namespace. */
export function planRootfs(input: PlanInput, fs: HostFs = realHostFs): MountOp[] {
  const owned = (hostPath: string) => input.ownedDirs.some((d) => hostPath === d || hostPath.startsWith(d.endsWith("/") ? d : `${d}/`));

  /** A node for host entry `src` that lives in a tmpfs, so it must be made and bound there. */
  function boundEntry(src: string): Node | undefined {
    const kind = fs.kind(src);
    if (kind === "symlink") return { kind: "symlink", target: fs.readlink(src), create: true };
    if (kind === "dir") return { kind: "host", hostPath: src, children: new Map(), bind: { src, recursive: true, readOnly: false }, create: true };
    if (kind !== undefined) return { kind: "file", bind: { src, recursive: false, readOnly: false }, create: true };
    return undefined;
  }

  /**
   * Turns host dir `node` into a tmpfs listing its host entries. Children already known (they may carry
   * mounts or deeper changes) are kept; a kept host child that was only visible through the parent's
   * bind now needs its own bind.
   */
  function split(node: DirNode & { kind: "host" }, except: string[] = []): DirNode {
    const children = new Map<string, Node>();
    for (const name of fs.list(node.hostPath)) {
      if (except.includes(name)) continue;
      const src = posix.join(node.hostPath, name);
      const known = node.children.get(name);
      if (known) {
        if ((known.kind === "host" || known.kind === "file") && !known.bind) known.bind = { src, recursive: known.kind === "host", readOnly: false };
        known.create = true;
        children.set(name, known);
      } else {
        const entry = boundEntry(src);
        if (entry) children.set(name, entry);
      }
    }
    return { kind: "synth", children, tmpfsMode: fs.mode(node.hostPath), create: node.create };
  }

  const root = split({ kind: "host", hostPath: "/", children: new Map(), create: false }, ["dev"]);
  const dev: DirNode = { kind: "synth", children: new Map(), tmpfsMode: 0o755, create: true };
  for (const name of DEV_NODES) {
    const src = `/dev/${name}`;
    if (fs.kind(src) !== undefined) dev.children.set(name, { kind: "file", bind: { src, recursive: false, readOnly: false }, create: true });
  }
  for (const name of DEV_DIRS) {
    const src = `/dev/${name}`;
    if (fs.kind(src) === "dir") dev.children.set(name, { kind: "host", hostPath: src, children: new Map(), bind: { src, recursive: true, readOnly: false }, create: true });
  }
  for (const [name, target] of Object.entries(DEV_LINKS)) dev.children.set(name, { kind: "symlink", target, create: true });
  root.children.set("dev", dev);

  /** The child `name` of a dir node, looking host dirs up lazily. */
  function child(node: DirNode, name: string): Node | undefined {
    const known = node.children.get(name);
    if (known || node.kind === "synth") return known;
    const src = posix.join(node.hostPath, name);
    const kind = fs.kind(src);
    let found: Node | undefined;
    if (kind === "dir") found = { kind: "host", hostPath: src, children: new Map(), create: false };
    else if (kind === "symlink") found = { kind: "symlink", target: fs.readlink(src), create: false };
    else if (kind !== undefined) found = { kind: "file", create: false };
    if (found) node.children.set(name, found);
    return found;
  }

  /**
   * Walks `path` from the root, following symlinks as the container would see them and creating what is
   * missing (`want` decides whether the last element is a dir or a file). Returns the parent dir node
   * and the entry name, so the caller can put a mount there.
   */
  function ensure(path: string, want: "dir" | "file"): { parent: DirNode; name: string; path: string } | undefined {
    let pending = posix.normalize(path).split("/").filter(Boolean);
    let trail: Array<{ dir: DirNode; name: string }> = [];
    let dir: DirNode = root;
    let hops = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === "..") {
        dir = trail.pop()?.dir ?? root;
        continue;
      }
      const last = pending.length === 0;
      let next = child(dir, name);
      if (next?.kind === "symlink") {
        if (++hops > 40) throw new PlanError(`too many levels of symbolic links in ${path}`);
        const here = "/" + trail.map((t) => t.name).join("/");
        pending = [...posix.resolve(here, next.target).split("/").filter(Boolean), ...pending];
        trail = [];
        dir = root;
        continue;
      }
      if (!next) {
        if (dir.kind === "host" && !owned(dir.hostPath)) {
          const up = trail[trail.length - 1];
          if (!up) throw new PlanError("cannot split the root");
          const synth = split(dir);
          up.dir.children.set(up.name, synth);
          dir = synth;
        }
        next =
          last && want === "file"
            ? { kind: "file", create: true }
            : dir.kind === "host"
              ? { kind: "host", hostPath: posix.join(dir.hostPath, name), children: new Map(), create: true }
              : { kind: "synth", children: new Map(), create: true };
        dir.children.set(name, next);
      }
      if (last) return { parent: dir, name, path: "/" + [...trail.map((t) => t.name), name].join("/") };
      if (!isDir(next)) throw new PlanError(`${path}: ${name} is not a directory`);
      trail.push({ dir, name });
      dir = next;
    }
    return undefined; // the root itself
  }

  // Parents before children, as runtimes order mounts.
  const mounts = [...input.mounts].sort((a, b) => depth(a.containerPath) - depth(b.containerPath));
  for (const m of mounts) {
    if (!posix.isAbsolute(m.containerPath)) throw new PlanError(`mount path ${m.containerPath} is not absolute`);
    const at = ensure(m.containerPath, m.kind);
    if (!at) throw new PlanError("cannot mount a volume on /");
    const existing = at.parent.children.get(at.name)!;
    if (m.kind === "dir" && !isDir(existing)) throw new PlanError(`${m.containerPath} is a file, not a directory`);
    if (m.kind === "file" && isDir(existing)) throw new PlanError(`${m.containerPath} is a directory, not a file`);
    const bind: Bind = { src: m.hostPath, recursive: m.kind === "dir", readOnly: m.readOnly };
    at.parent.children.set(
      at.name,
      m.kind === "dir" ? { kind: "host", hostPath: m.hostPath, children: new Map(), bind, create: existing.create } : { kind: "file", bind, create: existing.create },
    );
  }
  const wd = ensure(input.workingDir, "dir");
  if (wd && !isDir(wd.parent.children.get(wd.name))) throw new PlanError(`workingDir ${input.workingDir} is not a directory`);

  return emit(root, input.rootDir);
}

/** The operations that build `tree` at `rootDir`, parents first; read-only remounts come last. */
function emit(tree: Node, rootDir: string): MountOp[] {
  const ops: MountOp[] = [];
  const readonly: MountOp[] = [];
  const walk = (node: Node, path: string) => {
    if (node.create) ops.push(node.kind === "file" ? { op: "touch", path } : node.kind === "symlink" ? { op: "symlink", target: node.target, path } : { op: "mkdir", path });
    if (node.kind === "synth" && node.tmpfsMode !== undefined) ops.push({ op: "tmpfs", path, mode: node.tmpfsMode });
    if ((node.kind === "host" || node.kind === "file") && node.bind) {
      ops.push({ op: "bind", src: node.bind.src, dst: path, recursive: node.bind.recursive });
      if (node.bind.readOnly) readonly.push({ op: "readonly", path });
    }
    if (isDir(node)) for (const [name, c] of node.children) walk(c, posix.join(path, name));
  };
  walk(tree, rootDir);
  return [...ops, ...readonly];
}

function depth(p: string): number {
  return posix.normalize(p).split("/").filter(Boolean).length;
}
