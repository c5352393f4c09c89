/**
 * The root planner against a fake host tree: what it mounts where, and that it never plans a write to a
 * host directory outside the agent's state dir.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { planRootfs, PlanError, type EntryKind, type HostFs, type MountOp } from "../env/node-agent/mount-plan.ts";

/** A host tree: paths ending in "/" are dirs, "->" marks a symlink, anything else a file. */
function fakeFs(entries: string[]): HostFs {
  const kinds = new Map<string, EntryKind>([["/", "dir"]]);
  const links = new Map<string, string>();
  for (const e of entries) {
    const [path, target] = e.split(" -> ") as [string, string | undefined];
    if (target !== undefined) {
      kinds.set(path, "symlink");
      links.set(path, target);
    } else if (path.endsWith("/")) kinds.set(path.slice(0, -1), "dir");
    else kinds.set(path, "file");
  }
  return {
    kind: (p) => kinds.get(p),
    mode: (p) => (p === "/tmp" ? 0o1777 : 0o755),
    list: (p) => [...kinds.keys()].filter((k) => k !== p && k.startsWith(p === "/" ? "/" : `${p}/`) && !k.slice(p === "/" ? 1 : p.length + 1).includes("/")).map((k) => k.slice(k.lastIndexOf("/") + 1)).sort(),
    readlink: (p) => links.get(p)!,
  };
}

const HOST = fakeFs([
  "/bin -> usr/bin",
  "/usr/",
  "/usr/bin/",
  "/usr/bin/node",
  "/etc/",
  "/etc/hosts",
  "/etc/ssl/",
  "/etc/ssl/certs/",
  "/var/",
  "/var/run -> /run",
  "/run/",
  "/run/lock/",
  "/tmp/",
  "/tmp/state/",
  "/tmp/state/vol/",
  "/dev/",
  "/dev/null",
  "/dev/zero",
  "/dev/pts/",
  "/dev/shm/",
  "/dev/sda",
]);

const ROOT = "/tmp/state/root";
const plan = (mounts: Parameters<typeof planRootfs>[0]["mounts"], workingDir = "/") => planRootfs({ rootDir: ROOT, mounts, workingDir, ownedDirs: ["/tmp/state"] }, HOST);
const binds = (ops: MountOp[]) => ops.filter((o) => o.op === "bind").map((o) => `${o.src} ${o.dst}`);
const at = (ops: MountOp[], op: MountOp["op"], path: string) => ops.findIndex((o) => o.op === op && ("dst" in o ? o.dst : o.path) === path);

test("the root is a tmpfs of the host's top-level entries, with a runtime-like /dev", () => {
  const ops = plan([]);
  assert.deepEqual(ops[0], { op: "tmpfs", path: ROOT, mode: 0o755 });
  assert.ok(ops.some((o) => o.op === "symlink" && o.path === `${ROOT}/bin` && o.target === "usr/bin"), "symlinks are recreated, not bound");
  for (const dir of ["etc", "usr", "tmp", "var", "run"]) assert.ok(binds(ops).includes(`/${dir} ${ROOT}/${dir}`), dir);
  assert.ok(!binds(ops).includes(`/dev ${ROOT}/dev`), "the host's /dev is not bound whole");
  assert.ok(binds(ops).includes(`/dev/null ${ROOT}/dev/null`));
  assert.ok(binds(ops).includes(`/dev/pts ${ROOT}/dev/pts`));
  assert.ok(!binds(ops).some((b) => b.startsWith("/dev/sda")), "devices beyond the runtime set stay out");
});

test("a mount whose parent is missing splits the nearest host dir instead of writing to the host", () => {
  const ops = plan([{ containerPath: "/etc/creds", hostPath: "/tmp/state/vol", kind: "dir", readOnly: true }]);
  const tmpfsEtc = at(ops, "tmpfs", `${ROOT}/etc`);
  assert.ok(tmpfsEtc > 0, "/etc becomes a tmpfs inside the namespace");
  assert.ok(!binds(ops).includes(`/etc ${ROOT}/etc`), "so /etc itself is not bound");
  assert.ok(binds(ops).includes(`/etc/hosts ${ROOT}/etc/hosts`), "its entries are");
  assert.ok(binds(ops).includes(`/etc/ssl ${ROOT}/etc/ssl`));
  const mkdir = at(ops, "mkdir", `${ROOT}/etc/creds`);
  const bind = at(ops, "bind", `${ROOT}/etc/creds`);
  assert.ok(tmpfsEtc < mkdir && mkdir < bind, "tmpfs, then the mount point, then the bind");
  assert.equal(ops[ops.length - 1]!.op, "readonly", "read-only remounts come last");
  assert.ok(ops.every((o) => o.op !== "mkdir" || o.path.startsWith(ROOT)), "nothing is made outside the new root");
});

test("symlinks in a mount path resolve as the container sees them (/var/run -> /run)", () => {
  const ops = plan([{ containerPath: "/var/run/secrets/kubernetes.io/serviceaccount", hostPath: "/tmp/state/vol", kind: "dir", readOnly: true }]);
  assert.ok(at(ops, "tmpfs", `${ROOT}/run`) > 0, "/run is split, not /var");
  assert.ok(at(ops, "tmpfs", `${ROOT}/var`) < 0);
  assert.ok(binds(ops).includes(`/tmp/state/vol ${ROOT}/run/secrets/kubernetes.io/serviceaccount`));
  assert.ok(binds(ops).includes(`/run/lock ${ROOT}/run/lock`), "the rest of /run stays visible");
});

test("the termination-log file lands in the synthetic /dev; an existing host file is mounted over in place", () => {
  const ops = plan([
    { containerPath: "/dev/termination-log", hostPath: "/tmp/state/tl", kind: "file", readOnly: false },
    { containerPath: "/etc/hosts", hostPath: "/tmp/state/hosts", kind: "file", readOnly: false },
  ]);
  assert.ok(at(ops, "touch", `${ROOT}/dev/termination-log`) < at(ops, "bind", `${ROOT}/dev/termination-log`));
  assert.ok(at(ops, "tmpfs", `${ROOT}/etc`) < 0, "no split needed for an existing file");
  assert.ok(at(ops, "bind", `/tmp/state/hosts`) < 0 && binds(ops).includes(`/tmp/state/hosts ${ROOT}/etc/hosts`));
});

test("a split after an earlier mount keeps that mount", () => {
  // /etc/ssl/certs exists on the host, so it is mounted in place first; /etc/ssl/new then splits /etc/ssl.
  const ops = plan([
    { containerPath: "/etc/ssl/certs", hostPath: "/tmp/state/vol", kind: "dir", readOnly: false },
    { containerPath: "/etc/ssl/new", hostPath: "/tmp/state/vol2", kind: "dir", readOnly: false },
  ]);
  const tmpfs = at(ops, "tmpfs", `${ROOT}/etc/ssl`);
  const certs = ops.findIndex((o) => o.op === "bind" && o.dst === `${ROOT}/etc/ssl/certs`);
  assert.ok(tmpfs >= 0 && certs > tmpfs, "the volume is bound after the tmpfs that would hide it");
  assert.equal((ops[certs] as { src: string }).src, "/tmp/state/vol", "and it is the volume, not the host dir");
});

test("dirs below the agent's state dir are made in place; workingDir is created", () => {
  const ops = plan([
    { containerPath: "/data", hostPath: "/tmp/state/vol", kind: "dir", readOnly: false },
    { containerPath: "/data/sub/inner", hostPath: "/tmp/state/vol2", kind: "dir", readOnly: false },
  ], "/work/here");
  assert.ok(at(ops, "mkdir", `${ROOT}/data`) >= 0, "a top-level mount point is made in the root tmpfs");
  assert.ok(at(ops, "tmpfs", `${ROOT}/data`) < 0, "the volume (owned) is never split");
  assert.ok(at(ops, "mkdir", `${ROOT}/data/sub`) > at(ops, "bind", `${ROOT}/data`), "made inside the bound volume");
  assert.ok(at(ops, "mkdir", `${ROOT}/work/here`) >= 0);
});

test("impossible mounts are refused", () => {
  assert.throws(() => plan([{ containerPath: "/etc/hosts", hostPath: "/tmp/state/vol", kind: "dir", readOnly: false }]), PlanError);
  assert.throws(() => plan([{ containerPath: "/etc/hosts/x", hostPath: "/tmp/state/vol", kind: "dir", readOnly: false }]), PlanError);
  assert.throws(() => plan([{ containerPath: "relative", hostPath: "/tmp/state/vol", kind: "dir", readOnly: false }]), PlanError);
});
