/**
 * Agent restarts, with a second agent of its own (another Node, tainted so the scheduler leaves it alone;
 * the pods name it directly): a crashed agent's processes are killed by its successor, which reports
 * them as lost and carries on per restart policy; a SIGTERMed agent takes its pods' processes with it.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { defaultImages } from "../env/images.ts";
import type { NodeAgentConfig } from "../env/node-agent/config.ts";
import { REPO_ROOT } from "../env/paths.ts";
import { loadCertificateAuthority } from "../env/pki.ts";
import { freePort } from "../env/ports.ts";
import { eventually, kubeconfigFor, testEnv, useNamespace } from "../helpers/testenv.ts";
import { core, isPhase, NODE_IMAGE, pidOf, useClusterWithNodeAgent, waitForDefaultServiceAccount, waitForPod } from "./support.ts";

useClusterWithNodeAgent();

/** Running (not a zombie awaiting its reaper). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  return stat !== "" && !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

test("a restarted agent kills what a crashed one left running and reports it; a stopped agent leaves nothing behind", async (t) => {
  const local = testEnv().local;
  assert.ok(local, "needs the local control plane");
  const nodeName = `restart-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), "node-agent-restart-"));
  const ca = await loadCertificateAuthority(await readFile(local.caCert, "utf8"), await readFile(local.caKey, "utf8"));
  const serving = await ca.sign({ commonName: nodeName, usage: "server", ipAddresses: ["127.0.0.1"] });
  const config: NodeAgentConfig = {
    nodeName,
    kubeconfig: await kubeconfigFor(`system:node:${nodeName}`, ["system:nodes"]),
    stateDir: join(dir, "state"),
    kubeletPort: await freePort(),
    servingCert: serving.cert,
    servingKey: serving.key,
    clientCaCert: ca.cert,
    images: defaultImages(),
    registerWithTaints: [{ key: "qdrant-operator.test/agent-restart", effect: "NoSchedule" }],
  };
  const configPath = join(dir, "config.json");
  await writeFile(configPath, JSON.stringify(config));
  const agents: ChildProcess[] = [];
  const startAgent = () => {
    const fd = openSync(join(dir, "agent.log"), "a");
    const child = spawn(process.execPath, [join(REPO_ROOT, "test", "env", "node-agent", "main.ts"), configPath], { stdio: ["ignore", fd, fd] });
    closeSync(fd);
    agents.push(child);
    return child;
  };
  t.after(async () => {
    for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill("SIGTERM");
    await Promise.all(agents.map(exitOf));
    await core().deleteNode({ name: nodeName }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const first = startAgent();
  await eventually(`Node ${nodeName} Ready`, async () => ((await core().readNode({ name: nodeName })).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined));
  const ns = await useNamespace(t, "na-agent-restart");
  await waitForDefaultServiceAccount(ns);
  const sleeper = (name: string, restartPolicy: string): V1Pod => ({
    metadata: { name },
    spec: { nodeName, restartPolicy, terminationGracePeriodSeconds: 2, containers: [{ name: "main", image: NODE_IMAGE, command: ["node", "-e", "setInterval(() => {}, 1000)"] }] },
  });
  await core().createNamespacedPod({ namespace: ns, body: sleeper("never", "Never") });
  await core().createNamespacedPod({ namespace: ns, body: sleeper("onfailure", "OnFailure") });
  const runningPid = async (name: string, restartCount: number) =>
    pidOf(
      (await waitForPod(ns, name, `running (restart ${restartCount})`, (p) => {
        const cs = p.status?.containerStatuses?.[0];
        return cs?.state?.running && cs.restartCount === restartCount ? cs : undefined;
      })).containerID,
    );
  const oldNever = await runningPid("never", 0);
  const oldOnFailure = await runningPid("onfailure", 0);

  // A crash: the processes outlive their agent for now...
  first.kill("SIGKILL");
  await exitOf(first);
  assert.ok((await alive(oldNever)) && (await alive(oldOnFailure)), "nothing killed them yet");

  // ...until the next agent starts.
  const second = startAgent();
  const lost = await waitForPod(ns, "never", "Failed", isPhase("Failed"));
  assert.deepEqual(
    { ...lost.status?.containerStatuses?.[0]?.state?.terminated, finishedAt: undefined, startedAt: undefined, containerID: undefined },
    { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the node agent restarted", finishedAt: undefined, startedAt: undefined, containerID: undefined },
  );
  const newOnFailure = await runningPid("onfailure", 1);
  assert.notEqual(newOnFailure, oldOnFailure);
  assert.equal(await alive(oldNever), false);
  assert.equal(await alive(oldOnFailure), false);

  // A clean stop takes the pods' processes along.
  second.kill("SIGTERM");
  assert.equal(await exitOf(second), 0);
  assert.equal(await alive(newOnFailure), false);
});
