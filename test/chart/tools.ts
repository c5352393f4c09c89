/**
 * What the chart and kustomize tests share: the real helm, the namespaces a dry-run apply needs to exist
 * (a server-side dry run creates no Namespace, so objects in one it would create are refused), and
 * prometheus-operator's ServiceMonitor and PrometheusRule CRDs, which the monitoring values render.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureHelmBinaries, ensureMonitoringCrds } from "../env/build.ts";
import { kubectl } from "../helpers/kubectl.ts";

const run = promisify(execFile);

export const CHART = join(import.meta.dirname, "..", "..", "charts", "qdrant-operator");

/** Runs helm; rejects with its output in the message on a non-zero exit (lint reports on stdout). */
export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const { helm: bin } = await ensureHelmBinaries();
  try {
    return await run(bin, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stderr?: string; stdout?: string };
    throw Object.assign(new Error(`helm ${args.join(" ")}: ${e.stdout ?? ""}${e.stderr ?? e.message}`), { stderr: e.stderr ?? "", stdout: e.stdout ?? "" });
  }
}

/** Creates the namespaces (server-side apply, so existing ones are left as they are). */
export async function ensureNamespaces(names: string[]): Promise<void> {
  const docs = names.map((n) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n}\n`).join("---\n");
  await kubectl(["apply", "--server-side", "--field-manager=qdrant-operator-chart-test", "-f", "-"], docs);
}

let monitoring: Promise<void> | undefined;

/** Installs the ServiceMonitor and PrometheusRule CRDs once per process, idempotently (server-side apply). */
export function ensureMonitoringCrdsInstalled(): Promise<void> {
  monitoring ??= (async () => {
    const dir = await ensureMonitoringCrds();
    await kubectl([
      "apply", "--server-side", "--field-manager=qdrant-operator-chart-test",
      "-f", join(dir, "monitoring.coreos.com_servicemonitors.yaml"),
      "-f", join(dir, "monitoring.coreos.com_prometheusrules.yaml"),
    ]);
    await kubectl(["wait", "--for=condition=Established", "--timeout=120s", "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"]);
  })();
  return monitoring;
}

/** Applies manifests with a server-side dry run: the API server validates and admits them, nothing is stored. */
export async function dryRunApply(manifests: string): Promise<string> {
  const { stdout } = await kubectl(["apply", "--server-side", "--dry-run=server", "--field-manager=qdrant-operator-chart-test", "-f", "-"], manifests);
  return stdout;
}
