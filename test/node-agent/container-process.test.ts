/**
 * Real containers-as-processes, without a cluster: the launch script builds the root in a fresh mount
 * namespace, the process sees its volumes at the pod spec's paths (which do not exist on the host),
 * exactly its own environment and hostname, and its exit status and signals come back as a kubelet
 * reports them.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ContainerLogWriter } from "../env/node-agent/container-log.ts";
import { startContainerProcess } from "../env/node-agent/container-process.ts";
import { launchScript } from "../env/node-agent/launch-script.ts";
import { readLog } from "../env/node-agent/log-reader.ts";
import { planRootfs, type MountRequest } from "../env/node-agent/mount-plan.ts";
import { ProcessRecords } from "../env/node-agent/process-records.ts";

let state: string;
let n = 0;
const MISSING_ON_HOST = `/etc/node-agent-test-${process.pid}`;

before(async () => {
  state = await mkdtemp(join(tmpdir(), "node-agent-proc-"));
  await mkdir(join(state, "vol"));
  await writeFile(join(state, "vol", "secret.txt"), "s3cr3t");
});
after(async () => {
  await rm(state, { recursive: true, force: true });
});

/** True once `pid` is gone or a zombie (SIGKILL is delivered asynchronously), false at the deadline. */
async function processGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (!stat || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function run(argv: string[], opts: { env?: Array<[string, string]>; mounts?: MountRequest[]; workingDir?: string } = {}) {
  const dir = join(state, `c${++n}`);
  await mkdir(join(dir, "root"), { recursive: true });
  const tl = join(dir, "termination-log");
  await writeFile(tl, "");
  const mounts = [...(opts.mounts ?? []), { containerPath: "/dev/termination-log", hostPath: tl, kind: "file" as const, readOnly: false }];
  const ops = planRootfs({ rootDir: join(dir, "root"), mounts, workingDir: opts.workingDir ?? "/", ownedDirs: [state] });
  const script = launchScript({ ops, rootDir: join(dir, "root"), hostname: "test-pod", workingDir: opts.workingDir ?? "/", env: opts.env ?? [["PATH", "/usr/bin:/bin"]], argv, errorFile: join(dir, "err") });
  const log = new ContainerLogWriter(join(dir, "0.log"));
  const proc = startContainerProcess({ script, scriptPath: join(dir, "start.sh"), errorFile: join(dir, "err"), log, records: new ProcessRecords(state), record: { podUID: "u", pod: "ns/p", container: "c" } });
  const exit = await proc.exited;
  let output = "";
  await readLog(log.path, {}, (c) => {
    output += c;
    return Promise.resolve();
  });
  return { exit, output, termination: await readFile(tl, "utf8"), proc };
}

test("volumes appear at their mount paths, created only inside the namespace", async () => {
  const r = await run(["sh", "-c", `cat ${MISSING_ON_HOST}/secret.txt; echo; echo done > /dev/termination-log; exit 3`], {
    mounts: [{ containerPath: MISSING_ON_HOST, hostPath: join(state, "vol"), kind: "dir", readOnly: true }],
  });
  assert.equal(r.exit.exitCode, 3);
  assert.equal(r.exit.startError, undefined);
  assert.equal(r.output, "s3cr3t\n");
  assert.equal(r.termination, "done\n");
  assert.equal(existsSync(MISSING_ON_HOST), false, "the host's /etc is untouched");
});

test("a read-only mount refuses writes; a writable one writes through to the volume", async () => {
  await mkdir(join(state, "scratch"));
  const r = await run(["sh", "-c", "(echo x > /ro/f) 2>/dev/null && echo wrote-ro; echo y > /scratch/f && echo wrote-rw"], {
    mounts: [
      { containerPath: "/ro", hostPath: join(state, "vol"), kind: "dir", readOnly: true },
      { containerPath: "/scratch", hostPath: join(state, "scratch"), kind: "dir", readOnly: false },
    ],
  });
  assert.equal(r.output, "wrote-rw\n");
  assert.equal(await readFile(join(state, "scratch", "f"), "utf8"), "y\n");
});

test("only the given environment reaches the process, in its own UTS namespace and workingDir", async () => {
  const r = await run(["sh", "-c", "env | sort; hostname; pwd"], { env: [["PATH", "/usr/bin:/bin"], ["A_B", "va lue"], ["with.dot", "1"]], workingDir: "/made/for/it" });
  const lines = r.output.trim().split("\n");
  // dash adds PWD itself; everything else is exactly what was passed.
  assert.deepEqual(lines.filter((l) => l.includes("=") && !l.startsWith("PWD=")), ["A_B=va lue", "PATH=/usr/bin:/bin"]);
  assert.equal(lines.at(-2), "test-pod");
  assert.equal(lines.at(-1), "/made/for/it");
  assert.equal(existsSync("/made"), false);
});

test("a signal is reported as 128+signal, and the whole process group goes with the main process", async () => {
  const r = await run(["sh", "-c", "sleep 300 & echo $!; kill -TERM $$; sleep 300"]);
  const childPid = Number(r.output.trim());
  assert.equal(r.exit.exitCode, 143);
  assert.equal(r.exit.signal, 15);
  assert.ok(childPid > 0);
  assert.ok(await processGone(childPid, 5000), "the background sleep was killed with its container");
});

test("a failing setup is a start error, not an exit of the command", async () => {
  await writeFile(join(state, "afile"), "");
  // Mounting a directory volume over a path below a regular file cannot work.
  await assert.rejects(
    run(["true"], { mounts: [{ containerPath: "/etc/hostname/x", hostPath: join(state, "vol"), kind: "dir", readOnly: false }] }),
    /not a directory/,
  );
  const r = await run(["true"], { mounts: [{ containerPath: "/x", hostPath: join(state, "no-such-dir"), kind: "dir", readOnly: false }] });
  assert.equal(r.exit.exitCode, 128);
  assert.match(r.exit.startError ?? "", /failed to create the container root/);
});
