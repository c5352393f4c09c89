/**
 * Turns a root filesystem plan into the bash script that runs as the first process of a container's own
 * mount and UTS namespaces (`unshare --mount --uts`), builds the root, and finally execs the container's
 * command chrooted into it with exactly the container's environment (`env -i`). Every step execs in
 * place, so the pid the agent spawned is the container's main process and its exit status is the
 * container's exit code.
 *
 * Right before the final exec the script writes one byte to fd 3 (a pipe to the agent) and closes it:
 * that is when the container's command starts, so the agent reports it running only then. Setup failures
 * are written to `errorFile` and the script exits 128 without that byte; the agent reports them as a
 * StartError, as a kubelet reports a runtime that could not start a container.
 */
import type { MountOp } from "./mount-plan.ts";
import type { ProcessIdentity } from "./security.ts";

/** Tools of the host the script runs before the chroot (util-linux and coreutils, as on any Linux). */
export const TOOLS = {
  bash: "/bin/bash",
  unshare: "/usr/bin/unshare",
  mount: "/usr/bin/mount",
  mkdir: "/usr/bin/mkdir",
  ln: "/usr/bin/ln",
  env: "/usr/bin/env",
  /** Run inside the new root (which has the host's /usr) to drop to the pod's user and groups. */
  setpriv: "/usr/bin/setpriv",
};

/** Single-quotes a string for bash. */
export function shellQuote(s: string): string {
  if (s.includes("\0")) throw new Error("a NUL byte cannot be passed to a process");
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface LaunchSpec {
  ops: MountOp[];
  rootDir: string;
  hostname: string;
  workingDir: string;
  env: Array<[string, string]>;
  argv: string[];
  errorFile: string;
  /** Drop to this user and these groups for the command (securityContext); root when absent. */
  identity?: ProcessIdentity;
}

function opLine(op: MountOp): string {
  const q = shellQuote;
  switch (op.op) {
    case "tmpfs":
      return `${TOOLS.mount} -t tmpfs -o mode=${op.mode.toString(8).padStart(4, "0")} tmpfs ${q(op.path)}`;
    case "bind":
      return `${TOOLS.mount} ${op.recursive ? "--rbind" : "--bind"} ${q(op.src)} ${q(op.dst)}`;
    case "readonly":
      return `${TOOLS.mount} -o remount,bind,ro ${q(op.path)}`;
    case "mkdir":
      return `${TOOLS.mkdir} -p ${q(op.path)}`;
    case "touch":
      return `: >> ${q(op.path)}`;
    case "symlink":
      return `${TOOLS.ln} -s ${q(op.target)} ${q(op.path)}`;
  }
}

/** Folds runs of mkdir into one call: each call is a fork, and a root has dozens of entries. */
function lines(ops: MountOp[]): string[] {
  const out: string[] = [];
  let dirs: string[] = [];
  const flush = () => {
    if (dirs.length) out.push(`${TOOLS.mkdir} -p ${dirs.map(shellQuote).join(" ")}`);
    dirs = [];
  };
  for (const op of ops) {
    if (op.op === "mkdir") {
      dirs.push(op.path);
      continue;
    }
    flush();
    out.push(opLine(op));
  }
  flush();
  return out;
}

export function launchScript(spec: LaunchSpec): string {
  const q = shellQuote;
  const steps = lines(spec.ops).map((l) => `${l} || fail ${q(l)}`);
  const envArgs = spec.env.map(([k, v]) => q(`${k}=${v}`)).join(" ");
  const id = spec.identity;
  const setpriv = id ? `${TOOLS.setpriv} --reuid=${id.uid} --regid=${id.gid} ${id.groups.length ? `--groups=${id.groups.join(",")}` : "--clear-groups"} -- ` : "";
  return [
    "set -u",
    `exec 5>&2 2>>${q(spec.errorFile)}`,
    `fail() { printf 'failed to create the container root: %s\\n' "$1" >&2; exit 128; }`,
    `printf '%s' ${q(spec.hostname)} > /proc/sys/kernel/hostname || fail 'set hostname'`,
    ...steps,
    "printf R >&3 && exec 3>&- 2>&5 5>&-",
    `exec ${TOOLS.env} -i -- ${envArgs} ${TOOLS.unshare} --root=${q(spec.rootDir)} --wd=${q(spec.workingDir)} -- ${setpriv}${spec.argv.map(q).join(" ")}`,
    "",
  ].join("\n");
}
