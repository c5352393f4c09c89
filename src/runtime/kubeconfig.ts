/**
 * The kubeconfig file format, parsed and resolved without @kubernetes/client-node: pure functions from the
 * files' text to what one connection needs (kube-access.ts acts on it). Loading client-node costs the
 * manager ~81 MiB of RSS (its generated API: thousands of model classes) for what is, in the common
 * cases, a server URL, a CA, a client certificate or a bearer token.
 *
 * What a kubeconfig can ask for that is not implemented here (users with `exec` or `auth-provider`,
 * username/password, clusters with `proxy-url`) is not refused: {@link resolveContext} says so, and the
 * caller hands the same resolved configuration to client-node instead (kube-access-fallback.ts).
 *
 * Several files (KUBECONFIG=a:b) merge the way kubectl merges them: the first file that sets
 * current-context wins, and the first definition of a name wins.
 */
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

export interface KubeconfigCluster {
  name: string;
  server: string;
  caFile?: string;
  /** Base64, as in the file. */
  caData?: string;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

export interface KubeconfigUser {
  name: string;
  token?: string;
  tokenFile?: string;
  certFile?: string;
  certData?: string;
  keyFile?: string;
  keyData?: string;
  /** Impersonate-User. */
  as?: string;
  username?: string;
  password?: string;
  /** Kept as written, for client-node. */
  exec?: Record<string, unknown>;
  authProvider?: Record<string, unknown>;
}

export interface KubeconfigContext {
  name: string;
  cluster: string;
  user?: string;
  namespace?: string;
}

export interface Kubeconfig {
  /** The file(s) it came from, for messages. */
  source: string;
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: KubeconfigContext[];
  currentContext?: string;
}

/** A kubeconfig that cannot be used, with the file and the field at fault in its message. */
export class KubeconfigError extends Error {
  override name = "KubeconfigError";
}

type Raw = Record<string, unknown>;

function isMap(v: unknown): v is Raw {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses one kubeconfig file's text. Relative paths (certificate-authority, client-certificate,
 * client-key, token-file) are made absolute against the file's directory, as kubectl does.
 */
export function parseKubeconfig(text: string, file: string): Kubeconfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${file}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMap(doc)) throw new KubeconfigError(`kubeconfig ${file}: not a mapping at the top level`);
  const dir = dirname(file);
  const str = (where: string, v: unknown): string | undefined => {
    if (v === undefined || v === null || v === "") return undefined;
    if (typeof v !== "string") throw new KubeconfigError(`kubeconfig ${file}: ${where} must be a string`);
    return v;
  };
  const path = (where: string, v: unknown): string | undefined => {
    const p = str(where, v);
    return p === undefined || isAbsolute(p) ? p : resolve(dir, p);
  };
  const list = (key: string): Raw[] => {
    const v = doc[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new KubeconfigError(`kubeconfig ${file}: ${key} must be a list`);
    return v.map((e, i) => {
      if (!isMap(e)) throw new KubeconfigError(`kubeconfig ${file}: ${key}[${i}] must be a mapping`);
      if (typeof e.name !== "string" || e.name === "") throw new KubeconfigError(`kubeconfig ${file}: ${key}[${i}].name is missing`);
      return e;
    });
  };
  const body = (e: Raw, key: string, where: string): Raw => {
    const v = e[key];
    if (v === undefined || v === null) return {};
    if (!isMap(v)) throw new KubeconfigError(`kubeconfig ${file}: ${where}.${key} must be a mapping`);
    return v;
  };
  const optional = <T>(entries: Array<[string, T | undefined]>): Partial<Record<string, T>> => Object.fromEntries(entries.filter(([, v]) => v !== undefined));

  const clusters = list("clusters").map((e, i): KubeconfigCluster => {
    const at = `clusters[${i}]`;
    const c = body(e, "cluster", at);
    const server = str(`${at}.cluster.server`, c.server);
    if (server === undefined) throw new KubeconfigError(`kubeconfig ${file}: cluster "${e.name as string}" has no server (${at}.cluster.server)`);
    const insecure = c["insecure-skip-tls-verify"];
    if (insecure !== undefined && typeof insecure !== "boolean") throw new KubeconfigError(`kubeconfig ${file}: ${at}.cluster.insecure-skip-tls-verify must be true or false`);
    return {
      name: e.name as string,
      server: server.replace(/\/+$/, ""),
      insecureSkipTlsVerify: insecure === true,
      ...optional([
        ["caFile", path(`${at}.cluster.certificate-authority`, c["certificate-authority"])],
        ["caData", str(`${at}.cluster.certificate-authority-data`, c["certificate-authority-data"])],
        ["tlsServerName", str(`${at}.cluster.tls-server-name`, c["tls-server-name"])],
        ["proxyUrl", str(`${at}.cluster.proxy-url`, c["proxy-url"])],
      ]),
    };
  });
  const users = list("users").map((e, i): KubeconfigUser => {
    const at = `users[${i}].user`;
    const u = body(e, "user", `users[${i}]`);
    const map = (key: string): Record<string, unknown> | undefined => {
      const v = u[key];
      if (v === undefined || v === null) return undefined;
      if (!isMap(v)) throw new KubeconfigError(`kubeconfig ${file}: ${at}.${key} must be a mapping`);
      return v;
    };
    return {
      name: e.name as string,
      ...optional<string>([
        ["token", str(`${at}.token`, u.token)],
        ["tokenFile", path(`${at}.token-file`, u["token-file"])],
        ["certFile", path(`${at}.client-certificate`, u["client-certificate"])],
        ["certData", str(`${at}.client-certificate-data`, u["client-certificate-data"])],
        ["keyFile", path(`${at}.client-key`, u["client-key"])],
        ["keyData", str(`${at}.client-key-data`, u["client-key-data"])],
        ["as", str(`${at}.as`, u.as)],
        ["username", str(`${at}.username`, u.username)],
        ["password", str(`${at}.password`, u.password)],
      ]),
      ...optional<Record<string, unknown>>([
        ["exec", map("exec")],
        ["authProvider", map("auth-provider")],
      ]),
    };
  });
  const contexts = list("contexts").map((e, i): KubeconfigContext => {
    const at = `contexts[${i}].context`;
    const c = body(e, "context", `contexts[${i}]`);
    const cluster = str(`${at}.cluster`, c.cluster);
    if (cluster === undefined) throw new KubeconfigError(`kubeconfig ${file}: context "${e.name as string}" names no cluster (${at}.cluster)`);
    return { name: e.name as string, cluster, ...optional([["user", str(`${at}.user`, c.user)], ["namespace", str(`${at}.namespace`, c.namespace)]]) };
  });
  const current = str("current-context", doc["current-context"]);
  return { source: file, clusters, users, contexts, ...(current !== undefined ? { currentContext: current } : {}) };
}

/** kubectl's merge of several files: the first current-context and the first entry of each name win. */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const l of lists) for (const e of l) if (!seen.has(e.name)) seen.set(e.name, e);
    return [...seen.values()];
  };
  const current = configs.find((c) => c.currentContext !== undefined)?.currentContext;
  return {
    source: configs.map((c) => c.source).join(", "),
    clusters: firstByName(configs.map((c) => c.clusters)),
    users: firstByName(configs.map((c) => c.users)),
    contexts: firstByName(configs.map((c) => c.contexts)),
    ...(current !== undefined ? { currentContext: current } : {}),
  };
}

/** What one context resolves to: the entries it names, and whether kube-access.ts can serve it itself. */
export interface ResolvedContext {
  context: KubeconfigContext;
  cluster: KubeconfigCluster;
  user: KubeconfigUser;
  /** Why client-node must serve this context (empty: it need not). */
  needsClientNode: string[];
}

/**
 * Picks `contextName` (or the current context) and checks that it can be used, naming the field at fault:
 * a missing context, cluster or user; a user without credentials (over HTTPS), or with half a client
 * certificate;
 * a plain-HTTP server without insecure-skip-tls-verify (client-node's rule: credentials would travel
 * unencrypted).
 */
export function resolveContext(cfg: Kubeconfig, contextName?: string): ResolvedContext {
  const name = contextName ?? cfg.currentContext;
  if (name === undefined) throw new KubeconfigError(`kubeconfig ${cfg.source} has no current-context; name a context`);
  const context = cfg.contexts.find((c) => c.name === name);
  if (!context) throw new KubeconfigError(`context "${name}" not found in kubeconfig ${cfg.source} (it has: ${cfg.contexts.map((c) => c.name).join(", ") || "none"})`);
  const cluster = cfg.clusters.find((c) => c.name === context.cluster);
  if (!cluster) throw new KubeconfigError(`cluster "${context.cluster}" of context "${name}" not found in kubeconfig ${cfg.source}`);
  const user = context.user === undefined ? undefined : cfg.users.find((u) => u.name === context.user);
  if (context.user !== undefined && !user) throw new KubeconfigError(`user "${context.user}" of context "${name}" not found in kubeconfig ${cfg.source}`);

  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(`cluster "${cluster.name}": server "${cluster.server}" is not a URL`);
  }
  if (server.protocol !== "https:" && server.protocol !== "http:") throw new KubeconfigError(`cluster "${cluster.name}": server "${cluster.server}" is neither https nor http`);
  if (server.protocol === "http:" && !cluster.insecureSkipTlsVerify) {
    throw new KubeconfigError(`cluster "${cluster.name}": server "${cluster.server}" is plain HTTP, which would send the credentials unencrypted; allowed only with insecure-skip-tls-verify: true`);
  }

  const plainHttp = server.protocol === "http:";
  const proxied = cluster.proxyUrl ? [`cluster "${cluster.name}" uses proxy-url`] : [];
  if (!user) {
    // Behind a local proxy that adds the credentials (kubectl proxy), a context needs no user.
    if (plainHttp) return { context, cluster, user: { name: "" }, needsClientNode: proxied };
    throw new KubeconfigError(`context "${name}" names no user in kubeconfig ${cfg.source}: the manager needs credentials`);
  }
  const hasCert = user.certFile !== undefined || user.certData !== undefined;
  const hasKey = user.keyFile !== undefined || user.keyData !== undefined;
  if (hasCert !== hasKey) throw new KubeconfigError(`user "${user.name}" has ${hasCert ? "a client-certificate but no client-key" : "a client-key but no client-certificate"}`);
  const needsClientNode = [
    ...(user.exec ? [`user "${user.name}" uses exec`] : []),
    ...(user.authProvider ? [`user "${user.name}" uses auth-provider`] : []),
    ...(user.username !== undefined || user.password !== undefined ? [`user "${user.name}" uses username/password`] : []),
    ...proxied,
  ];
  // Over HTTPS a user without credentials would be anonymous, which a manager never is; over plain HTTP
  // it is the user of a local proxy that adds them (kubectl proxy).
  if (!plainHttp && !hasCert && user.token === undefined && user.tokenFile === undefined && !user.exec && !user.authProvider && user.username === undefined) {
    throw new KubeconfigError(`user "${user.name}" has no credentials (token, token-file, client-certificate and client-key, exec or auth-provider) in kubeconfig ${cfg.source}`);
  }
  return { context, cluster, user, needsClientNode };
}

/**
 * The in-cluster configuration as a kubeconfig: the service account's token file (re-read as it rotates)
 * and CA, the apiserver from KUBERNETES_SERVICE_HOST/PORT. Always https, as client-go does.
 */
export function inClusterKubeconfig(env: Record<string, string | undefined>, serviceAccountDir: string): Kubeconfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError(`${serviceAccountDir}/token exists but KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set: cannot tell where the apiserver is (pass --kubeconfig)`);
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    source: `in-cluster service account (${serviceAccountDir})`,
    clusters: [{ name: "in-cluster", server: `https://${hostPart}:${port}`, caFile: `${serviceAccountDir}/ca.crt`, insecureSkipTlsVerify: false }],
    users: [{ name: "service-account", tokenFile: `${serviceAccountDir}/token` }],
    contexts: [{ name: "in-cluster", cluster: "in-cluster", user: "service-account" }],
    currentContext: "in-cluster",
  };
}
