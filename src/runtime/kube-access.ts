/**
 * How a process reaches its apiserver: the server URL, one connection pool (TLS settings from the
 * kubeconfig) and the headers each request carries. {@link loadKubeAccess} picks the configuration the way
 * the manager always has (client-node's loadFromDefault order): the explicit path (`--kubeconfig`, or
 * KUBECONFIG through the config's env fallback), else $KUBECONFIG, else ~/.kube/config, else the in-cluster
 * service account. It serves client certificates, bearer tokens, token files, CAs, tls-server-name and
 * insecure-skip-tls-verify itself; anything else (exec and auth-provider users, username/password,
 * proxy-url) goes to @kubernetes/client-node, loaded only then (kube-access-fallback.ts).
 *
 * A token file is re-read when the copy held is older than `tokenMaxAgeMs` (a minute, as client-go does):
 * the kubelet rotates a projected service-account token in place, and a process that read it once would
 * start getting 401 when the old one expires (an hour, by default).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { Agent, type Dispatcher } from "undici";
import { KubeConfigFallbackAccess } from "./kube-access-fallback.ts";
import { inClusterKubeconfig, KubeconfigError, mergeKubeconfigs, parseKubeconfig, resolveContext, type Kubeconfig, type ResolvedContext } from "./kubeconfig.ts";

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** What {@link RestClient} and the watch send with. */
export interface KubeAccess {
  /** The apiserver's base URL, without a trailing slash (it may carry a path prefix). */
  readonly server: string;
  /** Where the configuration came from and which transport serves it, for the startup log. */
  readonly description: AccessDescription;
  /**
   * The headers one request carries (Authorization, Impersonate-User) and the pool to send it on: the same
   * pool for every request of this access, so connections are reused (see RestClient). `forWatch`: a
   * watch, which the fallback sends on a connection of its own (`owned`: the caller destroys it after).
   */
  prepare(opts?: { forWatch?: boolean }): Promise<Prepared>;
}

export interface Prepared {
  headers: Record<string, string>;
  dispatcher: Dispatcher;
  /** A dispatcher for this one call, to be destroyed when it ends. */
  owned?: boolean;
}

export interface AccessDescription {
  source: string;
  context: string;
  user: string;
  /** "own": this module; "client-node": the fallback, with why. */
  transport: "own" | "client-node";
  reasons?: string[];
}

export interface LoadAccessOptions {
  /** Explicit kubeconfig path(s), `path.delimiter`-separated (the --kubeconfig flag or KUBECONFIG). */
  kubeconfig?: string | undefined;
  /** A context other than the current one. */
  context?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Where the in-cluster token and ca.crt are; overridable for tests. */
  serviceAccountDir?: string;
  home?: string;
  /** How old a token file's copy may get before it is re-read. Default 60 s. */
  tokenMaxAgeMs?: number;
}

/** Loads the configuration (see the module's TSDoc for the order); throws {@link KubeconfigError} naming what is wrong. */
export function loadKubeAccess(opts: LoadAccessOptions = {}): KubeAccess {
  const env = opts.env ?? process.env;
  const saDir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const fromFiles = (list: string, what: string): Kubeconfig => {
    const files = list.split(delimiter).filter((f) => f !== "");
    if (files.length === 0) throw new KubeconfigError(`${what} is empty`);
    return mergeKubeconfigs(files.map((f) => parseKubeconfig(readText(f, `kubeconfig ${f} (${what})`), f)));
  };
  let cfg: Kubeconfig;
  if (opts.kubeconfig) cfg = fromFiles(opts.kubeconfig, "--kubeconfig");
  else if (env.KUBECONFIG) cfg = fromFiles(env.KUBECONFIG, "KUBECONFIG");
  else {
    const home = join(opts.home ?? env.HOME ?? homedir(), ".kube", "config");
    if (existsSync(home)) cfg = fromFiles(home, "~/.kube/config");
    else if (existsSync(join(saDir, "token"))) cfg = inClusterKubeconfig(env, saDir);
    else throw new KubeconfigError(`no kubeconfig: --kubeconfig and KUBECONFIG are unset, ${home} does not exist, and ${saDir}/token is not there (not in a cluster)`);
  }
  return accessFor(cfg, opts.context, opts.tokenMaxAgeMs);
}

/** The access for one parsed kubeconfig: this module's own, or client-node's when the context needs it. */
export function accessFor(cfg: Kubeconfig, context?: string, tokenMaxAgeMs = 60_000): KubeAccess {
  const resolved = resolveContext(cfg, context);
  if (resolved.needsClientNode.length > 0) return new KubeConfigFallbackAccess(cfg, resolved);
  return new DirectAccess(cfg.source, resolved, tokenMaxAgeMs);
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new KubeconfigError(`${what} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A PEM from `file` or base64 `data`; the field's name in errors. */
function pem(file: string | undefined, data: string | undefined, field: string): Buffer | undefined {
  if (file !== undefined) {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new KubeconfigError(`${field} ${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return data !== undefined ? Buffer.from(data, "base64") : undefined;
}

/**
 * Keep-alive probes after 30 s idle, as client-node and client-go: undici's 60 s default races cloud load
 * balancers' idle timeouts (60 s on AWS ELB) on a quiet watch.
 */
export const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelay: 30_000 } as const;

/**
 * The pool's options. HTTP/1.1, not undici's default of HTTP/2 where the server offers it: with HTTP/2 every
 * watch and request of the process shares one TCP connection, so one connection that silently died (a NAT
 * or load balancer dropped it) stalls them all, and the informer's watchdog aborting a stalled watch only
 * resets a stream on the same dead connection (test/runtime/cluster-informer.test.ts fails with it). With
 * HTTP/1.1 each open watch holds a connection of its own, as each had with client-node's Watch, and
 * aborting it closes that connection.
 */
export function poolOptions(connect: Record<string, unknown>): Agent.Options {
  return { allowH2: false, connect: { ...KEEP_ALIVE, ...connect } };
}

class DirectAccess implements KubeAccess {
  readonly server: string;
  readonly description: AccessDescription;
  readonly #dispatcher: Dispatcher;
  readonly #static: Record<string, string> = {};
  readonly #tokenFile: string | undefined;
  readonly #tokenMaxAgeMs: number;
  #token: { value: string; readAt: number } | undefined;

  constructor(source: string, r: ResolvedContext, tokenMaxAgeMs: number) {
    const { cluster, user } = r;
    this.server = cluster.server;
    this.description = { source, context: r.context.name, user: user.name, transport: "own" };
    const ca = pem(cluster.caFile, cluster.caData, `cluster "${cluster.name}" certificate-authority`);
    const cert = pem(user.certFile, user.certData, `user "${user.name}" client-certificate`);
    const key = pem(user.keyFile, user.keyData, `user "${user.name}" client-key`);
    this.#dispatcher = new Agent(
      poolOptions({
        ...(ca ? { ca } : {}),
        ...(cert ? { cert } : {}),
        ...(key ? { key } : {}),
        ...(cluster.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
        ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      }),
    );
    if (user.as !== undefined) this.#static["Impersonate-User"] = user.as;
    // An inline token wins over a token file, as in client-go.
    if (user.token !== undefined) this.#static.Authorization = `Bearer ${user.token.trim()}`;
    this.#tokenFile = user.token === undefined ? user.tokenFile : undefined;
    this.#tokenMaxAgeMs = tokenMaxAgeMs;
    if (this.#tokenFile !== undefined) this.#readToken(Date.now());
  }

  prepare(): Promise<Prepared> {
    // A token file that cannot be re-read rejects (the executor's throw).
    return new Promise((resolve) => {
      const headers = this.#tokenFile === undefined ? this.#static : { ...this.#static, Authorization: `Bearer ${this.#currentToken()}` };
      resolve({ headers, dispatcher: this.#dispatcher });
    });
  }

  #currentToken(): string {
    const now = Date.now();
    if (this.#token === undefined || now - this.#token.readAt > this.#tokenMaxAgeMs) this.#readToken(now);
    return this.#token!.value;
  }

  #readToken(now: number): void {
    const value = readText(this.#tokenFile!, `token-file ${this.#tokenFile!}`).trim();
    if (value === "") throw new KubeconfigError(`token-file ${this.#tokenFile!} is empty`);
    this.#token = { value, readAt: now };
  }
}
