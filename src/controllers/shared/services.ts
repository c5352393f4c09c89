/** Resolves a Service's named port, for connections that name a Service instead of a URL. */
import { OperatorError } from "../../errors.ts";
import { isNotFound } from "../../runtime/errors.ts";
import type { KubeClient } from "../../runtime/rest-client.ts";

interface ServiceObject {
  spec?: { ports?: Array<{ name?: string; port: number }> };
}

export async function servicePort(client: KubeClient, namespace: string, name: string, port: string): Promise<number> {
  let svc: ServiceObject;
  try {
    svc = await client.request<ServiceObject>("GET", `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}`);
  } catch (err) {
    if (isNotFound(err)) throw new OperatorError("REFERENCE_NOT_FOUND", `spec.service: Service ${namespace}/${name} does not exist`);
    throw err;
  }
  const found = svc.spec?.ports?.find((p) => p.name === port);
  if (!found) throw new OperatorError("REFERENCE_NOT_FOUND", `spec.service.port: Service ${namespace}/${name} has no port named "${port}"`);
  return found.port;
}
