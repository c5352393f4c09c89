/**
 * Starts a real Kubernetes control plane on 127.0.0.1 the way controller-runtime's envtest does: etcd,
 * kube-apiserver with a throwaway PKI and RBAC, kube-controller-manager (job, garbage collector, namespace,
 * service accounts, TTL-after-finished, node lifecycle…) and kube-scheduler, each with its own identity.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Binaries } from "./build.ts";
import { createCertificateAuthority, createServiceAccountKey, type CertificateAuthority, type KeyPairPem } from "./pki.ts";
import { freePort } from "./ports.ts";
import { startProcess, waitUntilReady, type ManagedProcess } from "./proc.ts";

/** Controllers the tests rely on; everything else stays off to save the two cores. */
export const CONTROLLERS = [
  "job-controller",
  "garbage-collector-controller",
  "namespace-controller",
  "serviceaccount-controller",
  "serviceaccount-token-controller",
  "ttl-after-finished-controller",
  "node-lifecycle-controller",
  "pod-garbage-collector-controller",
  "root-ca-certificate-publisher-controller",
  "clusterrole-aggregation-controller",
];

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin kubeconfig (O=system:masters). */
  kubeconfig: string;
  ca: CertificateAuthority;
  dir: string;
  processes: ManagedProcess[];
  /** Writes a kubeconfig for any user and groups, signed by the cluster CA. */
  kubeconfigFor(user: string, groups: string[], fileName?: string): Promise<string>;
  /** A client key pair for any user and groups. */
  clientCert(user: string, groups: string[]): Promise<KeyPairPem>;
  stop(): Promise<void>;
}

export interface KubeconfigParams {
  server: string;
  caPem: string;
  user: string;
  cert: KeyPairPem;
}

export function kubeconfigYaml(p: KubeconfigParams): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "testenv", cluster: { server: p.server, "certificate-authority-data": b64(p.caPem) } }],
    users: [{ name: p.user, user: { "client-certificate-data": b64(p.cert.cert), "client-key-data": b64(p.cert.key) } }],
    contexts: [{ name: "testenv", context: { cluster: "testenv", user: p.user, namespace: "default" } }],
    "current-context": "testenv",
  });
}

/** GET an HTTPS URL with a client certificate; true on a 200. */
function httpsOk(url: string, caPem: string, cert: KeyPairPem): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { ca: caPem, cert: cert.cert, key: cert.key, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("error", () => resolve(false));
    req.on("timeout", () => req.destroy());
    req.end();
  });
}

export async function startControlPlane(bins: Binaries, runDir: string): Promise<ControlPlane> {
  const dir = join(runDir, "control-plane");
  await mkdir(join(dir, "etcd"), { recursive: true });
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    const ca = await createCertificateAuthority();
    const file = async (name: string, content: string) => {
      const path = join(dir, name);
      await writeFile(path, content, { mode: 0o600 });
      return path;
    };
    const caFile = await file("ca.crt", ca.cert);
    await file("ca.key", ca.key); // lets test processes mint client certs (loadCertificateAuthority)
    const serving = await ca.sign({
      commonName: "kube-apiserver",
      usage: "server",
      dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"],
      ipAddresses: ["127.0.0.1", "10.0.0.1"],
    });
    const saKey = await createServiceAccountKey();
    const kubeletClient = await ca.sign({ commonName: "kube-apiserver-kubelet-client", organizations: ["system:masters"], usage: "client" });

    const [etcdPort, etcdPeerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = startProcess({
      name: "etcd",
      command: bins.etcd,
      runDir,
      args: [
        "--name=testenv",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=testenv=http://127.0.0.1:${etcdPeerPort}`,
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ],
    });
    processes.push(etcd);
    await waitUntilReady(etcd, "/health", async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok);

    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = startProcess({
      name: "kube-apiserver",
      command: bins.kubeApiserver,
      runDir,
      args: [
        `--etcd-servers=http://127.0.0.1:${etcdPort}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${dir}`,
        `--tls-cert-file=${await file("apiserver.crt", serving.cert)}`,
        `--tls-private-key-file=${await file("apiserver.key", serving.key)}`,
        `--client-ca-file=${caFile}`,
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        `--service-account-key-file=${await file("sa.pub", saKey.publicKey)}`,
        `--service-account-signing-key-file=${await file("sa.key", saKey.privateKey)}`,
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-cluster-ip-range=10.0.0.0/24",
        "--allow-privileged=true",
        `--kubelet-client-certificate=${await file("kubelet-client.crt", kubeletClient.cert)}`,
        `--kubelet-client-key=${await file("kubelet-client.key", kubeletClient.key)}`,
        `--kubelet-certificate-authority=${caFile}`,
        "--kubelet-preferred-address-types=InternalIP",
        "--v=1",
      ],
    });
    processes.push(apiserver);

    const clientCert = (user: string, groups: string[]) => ca.sign({ commonName: user, organizations: groups, usage: "client" });
    const kubeconfigFor = async (user: string, groups: string[], fileName?: string) =>
      file(fileName ?? `kubeconfig-${user.replace(/[^a-z0-9-]/gi, "_")}.yaml`, kubeconfigYaml({ server, caPem: ca.cert, user, cert: await clientCert(user, groups) }));
    const admin = await clientCert("testenv-admin", ["system:masters"]);
    const kubeconfig = await file("admin.kubeconfig", kubeconfigYaml({ server, caPem: ca.cert, user: "testenv-admin", cert: admin }));
    await waitUntilReady(apiserver, "/readyz", () => httpsOk(`${server}/readyz`, ca.cert, admin));

    const cm = startProcess({
      name: "kube-controller-manager",
      command: bins.kubeControllerManager,
      runDir,
      args: [
        `--kubeconfig=${await kubeconfigFor("system:kube-controller-manager", [])}`,
        `--controllers=${CONTROLLERS.join(",")}`,
        "--use-service-account-credentials=true",
        `--service-account-private-key-file=${join(dir, "sa.key")}`,
        `--root-ca-file=${caFile}`,
        "--leader-elect=false",
        "--secure-port=0",
        "--node-monitor-grace-period=20s",
        "--v=1",
      ],
    });
    processes.push(cm);
    const scheduler = startProcess({
      name: "kube-scheduler",
      command: bins.kubeScheduler,
      runDir,
      args: [`--kubeconfig=${await kubeconfigFor("system:kube-scheduler", [])}`, "--leader-elect=false", "--secure-port=0", "--v=1"],
    });
    processes.push(scheduler);
    return { server, kubeconfig, ca, dir, processes, kubeconfigFor, clientCert, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
