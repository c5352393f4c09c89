import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadKubeAccess } from "../../src/runtime/kube-access.ts";
import { inClusterKubeconfig, KubeconfigError, mergeKubeconfigs, parseKubeconfig, resolveContext } from "../../src/runtime/kubeconfig.ts";

const YAML = `
apiVersion: v1
kind: Config
current-context: dev
clusters:
  - name: c1
    cluster:
      server: https://api.example.com:6443/
      certificate-authority: certs/ca.crt
      tls-server-name: kubernetes
  - name: c2
    cluster:
      server: http://127.0.0.1:8001
      insecure-skip-tls-verify: true
      proxy-url: http://proxy:3128
users:
  - name: alice
    user:
      client-certificate: /abs/alice.crt
      client-key: alice.key
      as: bob
  - name: robot
    user:
      token-file: token
  - name: cloud
    user:
      exec:
        apiVersion: client.authentication.k8s.io/v1
        command: get-token
  - name: nobody
    user: {}
contexts:
  - name: dev
    context: { cluster: c1, user: alice, namespace: team }
  - name: proxied
    context: { cluster: c2, user: robot }
  - name: cloudy
    context: { cluster: c1, user: cloud }
  - name: empty
    context: { cluster: c1, user: nobody }
  - name: ghost
    context: { cluster: c1, user: casper }
  - name: lost
    context: { cluster: c9, user: alice }
`;

test("a kubeconfig's fields are parsed; relative paths are taken from the file's directory; a trailing slash of the server is dropped", () => {
  const cfg = parseKubeconfig(YAML, "/home/me/.kube/config");
  assert.equal(cfg.currentContext, "dev");
  assert.deepEqual(cfg.clusters[0], { name: "c1", server: "https://api.example.com:6443", insecureSkipTlsVerify: false, caFile: "/home/me/.kube/certs/ca.crt", tlsServerName: "kubernetes" });
  assert.deepEqual(cfg.users[0], { name: "alice", certFile: "/abs/alice.crt", keyFile: "/home/me/.kube/alice.key", as: "bob" });
  assert.equal(cfg.users[1]!.tokenFile, "/home/me/.kube/token");
  assert.deepEqual(cfg.contexts[0], { name: "dev", cluster: "c1", user: "alice", namespace: "team" });
});

test("resolveContext: the current context by default, or a named one; what needs client-node is named", () => {
  const cfg = parseKubeconfig(YAML, "/k/config");
  const dev = resolveContext(cfg);
  assert.equal(dev.context.name, "dev");
  assert.equal(dev.user.name, "alice");
  assert.deepEqual(dev.needsClientNode, []);
  assert.deepEqual(resolveContext(cfg, "proxied").needsClientNode, ['cluster "c2" uses proxy-url']);
  assert.deepEqual(resolveContext(cfg, "cloudy").needsClientNode, ['user "cloud" uses exec']);
});

test("resolveContext names what is missing or wrong", () => {
  const cfg = parseKubeconfig(YAML, "/k/config");
  const fails = (ctx: string | undefined, re: RegExp, c = cfg) => assert.throws(() => resolveContext(c, ctx), (e: unknown) => e instanceof KubeconfigError && re.test(e.message));
  fails("nope", /^context "nope" not found in kubeconfig \/k\/config \(it has: dev, proxied, cloudy, empty, ghost, lost\)$/);
  fails("empty", /user "nobody" has no credentials/);
  fails("ghost", /user "casper" of context "ghost" not found/);
  fails("lost", /cluster "c9" of context "lost" not found/);
  fails(undefined, /has no current-context/, { ...cfg, currentContext: undefined });
  fails(undefined, /client-certificate but no client-key/, parseKubeconfig("clusters: [{name: c, cluster: {server: 'https://x'}}]\nusers: [{name: u, user: {client-certificate-data: QQ==}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x", "/f"));
  fails(undefined, /context "x" names no user/, parseKubeconfig("clusters: [{name: c, cluster: {server: 'https://x'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x", "/f"));
  fails(undefined, /plain HTTP.*insecure-skip-tls-verify: true/, parseKubeconfig("clusters: [{name: c, cluster: {server: 'http://x'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x", "/f"));
});

test("over plain HTTP (behind kubectl proxy, which adds the credentials) a context needs no user, or a user with none", () => {
  const cfg = (user: string) =>
    parseKubeconfig(`clusters: [{name: c, cluster: {server: 'http://127.0.0.1:8001', insecure-skip-tls-verify: true}}]\nusers: [{name: p, user: {}}]\ncontexts: [{name: x, context: {cluster: c${user}}}]\ncurrent-context: x`, "/f");
  assert.deepEqual(resolveContext(cfg("")).needsClientNode, []);
  assert.equal(resolveContext(cfg(", user: p")).user.name, "p");
});

test("parseKubeconfig names the bad field", () => {
  const fails = (text: string, re: RegExp) => assert.throws(() => parseKubeconfig(text, "/f"), (e: unknown) => e instanceof KubeconfigError && re.test(e.message));
  fails("clusters: [{name: c, cluster: {}}]", /cluster "c" has no server \(clusters\[0\]\.cluster\.server\)/);
  fails("clusters: [{cluster: {server: x}}]", /clusters\[0\]\.name is missing/);
  fails("users: {a: 1}", /users must be a list/);
  fails("users: [{name: u, user: {token: 5}}]", /users\[0\]\.user\.token must be a string/);
  fails("clusters: [{name: c, cluster: {server: 'https://x', insecure-skip-tls-verify: 'yes'}}]", /insecure-skip-tls-verify must be true or false/);
  fails("contexts: [{name: x, context: {user: u}}]", /context "x" names no cluster/);
  fails("a: [", /not valid YAML/);
});

test("several files merge as kubectl merges them: the first current-context and the first of each name win", () => {
  const a = parseKubeconfig("clusters: [{name: c, cluster: {server: 'https://a'}}]\nusers: [{name: u, user: {token: a}}]", "/a");
  const b = parseKubeconfig("current-context: x\nclusters: [{name: c, cluster: {server: 'https://b'}}]\nusers: [{name: u, user: {token: b}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]", "/b");
  const c = parseKubeconfig("current-context: y\ncontexts: [{name: y, context: {cluster: c, user: u}}]", "/c");
  const m = mergeKubeconfigs([a, b, c]);
  assert.equal(m.currentContext, "x");
  assert.equal(m.clusters[0]!.server, "https://a");
  assert.equal(m.users[0]!.token, "a");
  assert.deepEqual(m.contexts.map((x) => x.name), ["x", "y"]);
  assert.equal(m.source, "/a, /b, /c");
});

test("in-cluster: the token file and CA of the service-account directory, https to KUBERNETES_SERVICE_HOST:PORT (IPv6 bracketed)", () => {
  const cfg = inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" }, "/sa");
  const r = resolveContext(cfg);
  assert.equal(r.cluster.server, "https://[fd00::1]:443");
  assert.equal(r.cluster.caFile, "/sa/ca.crt");
  assert.equal(r.user.tokenFile, "/sa/token");
  assert.throws(() => inClusterKubeconfig({ KUBERNETES_SERVICE_HOST: "10.0.0.1" }, "/sa"), /KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT/);
});

test("loadKubeAccess: the explicit path, else KUBECONFIG, else ~/.kube/config, else in-cluster, else a clear error", async () => {
  const dir = await mkdtemp(join(tmpdir(), "kubeconfig-test-"));
  const write = async (name: string, server: string) => {
    const p = join(dir, name);
    await writeFile(p, `clusters: [{name: c, cluster: {server: '${server}'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x`);
    return p;
  };
  const flag = await write("flag", "https://flag");
  const envFile = await write("env", "https://env");
  await writeFile(join(dir, "token"), "sa-token\n");
  // Read when the pool is made, parsed only when it connects.
  await writeFile(join(dir, "ca.crt"), "not parsed before a connection");
  const home = join(dir, "home");
  const otherHome = join(dir, "other-home");
  await mkdir(join(otherHome, ".kube"), { recursive: true });
  await copyFile(await write("home", "https://home"), join(otherHome, ".kube", "config"));
  assert.equal(loadKubeAccess({ env: {}, home: otherHome, serviceAccountDir: dir }).server, "https://home");
  assert.equal(loadKubeAccess({ kubeconfig: flag, env: { KUBECONFIG: envFile }, home }).server, "https://flag");
  assert.equal(loadKubeAccess({ env: { KUBECONFIG: envFile }, home }).server, "https://env");
  const inCluster = loadKubeAccess({ env: { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }, home, serviceAccountDir: dir });
  assert.equal(inCluster.server, "https://10.0.0.1:443");
  assert.deepEqual((await inCluster.prepare()).headers, { Authorization: "Bearer sa-token" });
  assert.throws(() => loadKubeAccess({ env: {}, home, serviceAccountDir: join(dir, "none") }), /no kubeconfig: --kubeconfig and KUBECONFIG are unset/);
  assert.throws(() => loadKubeAccess({ kubeconfig: join(dir, "missing"), env: {} }), /kubeconfig .*missing \(--kubeconfig\) cannot be read/);
  assert.throws(() => loadKubeAccess({ kubeconfig: flag, context: "other", env: {} }), /context "other" not found/);
});
