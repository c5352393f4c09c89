/**
 * The {@link KubeAccess} for what kube-access.ts does not implement (exec and auth-provider users,
 * username/password, proxy-url): @kubernetes/client-node's KubeConfig.applySecurityAuthentication, the
 * library loaded with `import()` on the first request, so a process whose kubeconfig never needs it never
 * pays its ~81 MiB. Also what the CLI uses with the KubeConfig it already loaded.
 *
 * The library builds a new undici Agent on every call when the kubeconfig has any TLS setting; the first
 * call's is kept and every later request uses it (the TLS settings are read once, at load), so this access
 * has one connection pool too. A watch gets its call's own Agent (one connection, destroyed when the
 * watch ends), as client-node's Watch did: that Agent may speak HTTP/2, and on the shared one a watch the
 * informer's watchdog aborts would only reset a stream of a possibly dead connection (see poolOptions in
 * kube-access.ts). Headers (an exec plugin's token, which it caches and renews) are taken from each call.
 */
import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import { Agent, type Dispatcher } from "undici";
import { poolOptions, type AccessDescription, type KubeAccess, type Prepared } from "./kube-access.ts";
import type { Kubeconfig, ResolvedContext } from "./kubeconfig.ts";

export class KubeConfigFallbackAccess implements KubeAccess {
  readonly server: string;
  readonly description: AccessDescription;
  readonly #kc: () => Promise<KubeConfig>;
  #loaded: Promise<KubeConfig> | undefined;
  #dispatcher: Dispatcher | undefined;

  /** From a parsed kubeconfig (the manager), or from a client-node KubeConfig (the CLI, {@link fromKubeConfig}). */
  constructor(cfg: Kubeconfig, resolved: ResolvedContext);
  constructor(kc: KubeConfig);
  constructor(cfgOrKc: Kubeconfig | KubeConfig, resolved?: ResolvedContext) {
    if (resolved) {
      const cfg = cfgOrKc as Kubeconfig;
      this.server = resolved.cluster.server;
      this.description = { source: cfg.source, context: resolved.context.name, user: resolved.user.name, transport: "client-node", reasons: resolved.needsClientNode };
      this.#kc = () => toClientNode(resolved);
    } else {
      const kc = cfgOrKc as KubeConfig;
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error("the kubeconfig has no current cluster");
      this.server = cluster.server;
      this.description = { source: "client-node KubeConfig", context: kc.getCurrentContext(), user: kc.getCurrentUser()?.name ?? "", transport: "client-node" };
      this.#kc = () => Promise.resolve(kc);
    }
  }

  async prepare(opts: { forWatch?: boolean } = {}): Promise<Prepared> {
    const kc = await (this.#loaded ??= this.#kc());
    const { RequestContext, HttpMethod } = await import("@kubernetes/client-node");
    const ctx = new RequestContext(this.server, HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    const fresh = ctx.getDispatcher();
    if (opts.forWatch && fresh !== undefined && fresh !== this.#dispatcher) return { headers: ctx.getHeaders(), dispatcher: fresh, owned: true };
    this.#dispatcher ??= fresh ?? new Agent(poolOptions({}));
    return { headers: ctx.getHeaders(), dispatcher: this.#dispatcher };
  }
}

/** The same resolved configuration, as client-node's KubeConfig, the chosen context current. */
async function toClientNode(r: ResolvedContext): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  const c = r.cluster;
  const u = r.user;
  kc.loadFromOptions({
    clusters: [{ name: c.name, server: c.server, caFile: c.caFile, caData: c.caData, skipTLSVerify: c.insecureSkipTlsVerify, tlsServerName: c.tlsServerName, proxyUrl: c.proxyUrl }],
    users: [
      {
        name: u.name,
        // client-node reads a token-file once, at load.
        token: u.token ?? (u.tokenFile !== undefined ? readFileSync(u.tokenFile, "utf8").trim() : undefined),
        certFile: u.certFile,
        certData: u.certData,
        keyFile: u.keyFile,
        keyData: u.keyData,
        exec: u.exec,
        authProvider: u.authProvider,
        username: u.username,
        password: u.password,
        impersonateUser: u.as,
      },
    ],
    contexts: [{ name: r.context.name, cluster: c.name, user: u.name, ...(r.context.namespace ? { namespace: r.context.namespace } : {}) }],
    currentContext: r.context.name,
  });
  return kc;
}
