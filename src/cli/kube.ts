/**
 * The plugin's connection to the cluster, chosen the way kubectl chooses it: `--kubeconfig`, else
 * $KUBECONFIG, else ~/.kube/config; `--context`, else the current context; `-n`, else the context's
 * namespace, else "default". Requests go through the operator's own RestClient (on @kubernetes/client-node's
 * KubeConfig authentication: the CLI keeps the library's every kubeconfig feature), and every API failure becomes a {@link CliError} that says what to fix: a refusal names
 * the verb and the resource, so the user knows which RBAC rule to ask for.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { httpStatusOf } from "../runtime/errors.ts";
import { KubeConfigFallbackAccess } from "../runtime/kube-access-fallback.ts";
import type { ResourceType } from "../runtime/resource.ts";
import { RestClient } from "../runtime/rest-client.ts";
import type { ParsedArgs } from "./args.ts";

/** An error whose message is the whole story for the user: printed as is, exit code 1. */
export class CliError extends Error {
  override name = "CliError";
}

export interface Cluster {
  client: RestClient;
  namespace: string;
  /** For the watch of `--wait`. */
  kubeConfig: KubeConfig;
}

/** The kubeconfig files kubectl would read, or a CliError saying how to point at one. */
function kubeconfigFiles(args: ParsedArgs): string[] {
  const flag = args.flags.get("kubeconfig");
  if (flag !== undefined) {
    if (!existsSync(flag)) throw new CliError(`--kubeconfig ${flag}: no such file`);
    return [flag];
  }
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(delimiter).filter((f) => f !== "" && existsSync(f));
    if (files.length === 0) throw new CliError(`KUBECONFIG=${env}: none of its files exists; point it (or --kubeconfig) at a kubeconfig`);
    return files;
  }
  const home = join(homedir(), ".kube", "config");
  if (!existsSync(home)) throw new CliError(`no kubeconfig: ${home} does not exist; pass --kubeconfig <file> or set KUBECONFIG`);
  return [home];
}

export function connect(args: ParsedArgs): Cluster {
  const kc = new KubeConfig();
  const files = kubeconfigFiles(args);
  try {
    kc.loadFromFile(files[0]!);
    for (const f of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(f);
      kc.mergeConfig(more);
    }
  } catch (err) {
    throw new CliError(`kubeconfig ${files.join(delimiter)} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
  }
  const context = args.flags.get("context");
  if (context !== undefined) {
    if (kc.getContextObject(context) === null) throw new CliError(`--context ${context}: no such context in the kubeconfig (it has: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
    kc.setCurrentContext(context);
  }
  if (kc.getCurrentCluster() === null) throw new CliError("the kubeconfig has no current context with a cluster; pass --context <name>");
  const namespace = args.flags.get("namespace") ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  return { client: new RestClient(new KubeConfigFallbackAccess(kc), { userAgent: "kubectl-qdrant" }), namespace, kubeConfig: kc };
}

/**
 * Runs one API call and translates its failure: `verb` and `rt` are what the caller was doing, so a 403
 * says exactly which permission is missing and a 404 of a CRD's list says the CRDs are not installed.
 */
export async function call<T>(verb: string, rt: ResourceType, namespace: string, name: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw explain(err, verb, rt, namespace, name);
  }
}

export function explain(err: unknown, verb: string, rt: ResourceType, namespace: string, name: string | undefined): Error {
  const resource = rt.group === "" ? rt.plural : `${rt.plural}.${rt.group}`;
  const status = httpStatusOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (status === 401) return new CliError(`the cluster refused your credentials (401 Unauthorized) to ${verb} ${resource}; renew them in your kubeconfig`);
  if (status === 403) {
    return new CliError(`forbidden: you may not ${verb} ${resource} in namespace ${namespace}; ask for an RBAC Role granting "${verb}" on "${resource}" (or pass -n for a namespace you may use)`);
  }
  if (status === 404 && name !== undefined) return new CliError(`${rt.kind} ${namespace}/${name} not found (kubectl get ${resource} -n ${namespace} lists them)`);
  if (status === 404) return new CliError(`the cluster does not know ${resource}: the qdrant-operator CRDs are not installed (kubectl apply -f crds/)`);
  if (status === 422 || status === 400) return new CliError(`the cluster refused to ${verb} ${rt.kind}${name ? ` ${name}` : ""}: ${detail.replace(/^[A-Z]+ \S+: HTTP \d+: /, "")}`);
  if (status === 409) return new CliError(`${rt.kind} ${namespace}/${name ?? ""} already exists; pick another name`);
  if (status === undefined) return new CliError(`cannot reach the cluster to ${verb} ${resource}: ${detail}`);
  return new CliError(`${verb} ${resource}: ${detail}`);
}
