/**
 * A container's environment, built as the kubelet builds it (pkg/kubelet makeEnvironmentVariables):
 * envFrom sources in order, then env entries, whose values may use `$(VAR)` of earlier entries and of
 * the service variables; then the service variables not overridden. The image's ENV sits underneath, as
 * a runtime merges it. Nothing of the agent's own environment is added.
 *
 * Service variables: only the `kubernetes` service's, and they point at the real API server on
 * 127.0.0.1 rather than at a cluster IP nothing here routes, so in-cluster clients work (see README).
 */
import type { ImageConfig } from "../images.ts";
import { podFieldValue, resourceFieldValue, type NodeResources } from "./downward-api.ts";
import { expand, mappingFuncFor } from "./expansion.ts";
import { configMapValues, secretValues, type PodObjects } from "./objects.ts";
import type { Container, Pod } from "./types.ts";

/** A container config that cannot be built: the container waits with CreateContainerConfigError. */
export class ContainerConfigError extends Error {}

/** KUBERNETES_SERVICE_HOST and friends for an API server at `server` (https://host:port). */
export function kubernetesServiceEnv(server: string): Map<string, string> {
  const url = new URL(server);
  const host = url.hostname;
  const port = url.port || "443";
  const tcp = `tcp://${host}:${port}`;
  return new Map([
    ["KUBERNETES_SERVICE_HOST", host],
    ["KUBERNETES_SERVICE_PORT", port],
    ["KUBERNETES_SERVICE_PORT_HTTPS", port],
    ["KUBERNETES_PORT", tcp],
    [`KUBERNETES_PORT_${port}_TCP`, tcp],
    [`KUBERNETES_PORT_${port}_TCP_PROTO`, "tcp"],
    [`KUBERNETES_PORT_${port}_TCP_PORT`, port],
    [`KUBERNETES_PORT_${port}_TCP_ADDR`, host],
  ]);
}

/** Names the API accepts since RelaxedEnvironmentVariableValidation: printable ASCII without '='. */
function validName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x7e]+$/.test(name) && !name.includes("=");
}

export interface EnvInput {
  pod: Pod;
  container: Container;
  image: ImageConfig;
  objects: PodObjects;
  node: NodeResources;
  serviceEnv: Map<string, string>;
}

export interface ContainerEnv {
  /** The final environment, in the order a runtime passes it: image ENV, then the container's. */
  env: Map<string, string>;
  /** What `$(VAR)` in command/args may use: the container's variables, not the image's. */
  kubeEnv: Map<string, string>;
}

export async function containerEnv(input: EnvInput): Promise<ContainerEnv> {
  const { pod, container, objects } = input;
  const ns = pod.metadata.namespace ?? "";
  const tmp = new Map<string, string>();
  const mapping = mappingFuncFor(tmp, input.serviceEnv);

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    let values: Map<string, Buffer> | undefined;
    if (from.configMapRef) {
      const cm = await objects.configMap(from.configMapRef.name);
      if (!cm && !from.configMapRef.optional) throw new ContainerConfigError(`configmap ${JSON.stringify(from.configMapRef.name)} not found`);
      values = cm ? configMapValues(cm) : undefined;
    } else if (from.secretRef) {
      const secret = await objects.secret(from.secretRef.name);
      if (!secret && !from.secretRef.optional) throw new ContainerConfigError(`secret ${JSON.stringify(from.secretRef.name)} not found`);
      values = secret ? secretValues(secret) : undefined;
    }
    for (const [k, v] of values ?? []) if (validName(prefix + k)) tmp.set(prefix + k, v.toString("utf8"));
  }

  for (const e of container.env ?? []) {
    let value = e.value ?? "";
    if (value !== "") {
      value = expand(value, mapping);
    } else if (e.valueFrom) {
      const vf = e.valueFrom;
      if (vf.fieldRef) {
        try {
          value = podFieldValue(pod, vf.fieldRef, false);
        } catch (err) {
          throw new ContainerConfigError((err as Error).message);
        }
      } else if (vf.resourceFieldRef) {
        try {
          value = resourceFieldValue(pod, container, vf.resourceFieldRef, input.node);
        } catch (err) {
          throw new ContainerConfigError((err as Error).message);
        }
      } else if (vf.secretKeyRef) {
        const ref = vf.secretKeyRef;
        const secret = await objects.secret(ref.name);
        if (!secret) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`secret ${JSON.stringify(ref.name)} not found`);
        }
        const v = secretValues(secret).get(ref.key);
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
        }
        value = v.toString("utf8");
      } else if (vf.configMapKeyRef) {
        const ref = vf.configMapKeyRef;
        const cm = await objects.configMap(ref.name);
        if (!cm) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`configmap ${JSON.stringify(ref.name)} not found`);
        }
        const v = configMapValues(cm).get(ref.key);
        if (v === undefined) {
          if (ref.optional) continue;
          throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
        }
        value = v.toString("utf8");
      } else {
        throw new ContainerConfigError(`env ${e.name}: this valueFrom source is not supported by the node agent`);
      }
    }
    tmp.set(e.name, value);
  }

  const kubeEnv = new Map(tmp);
  for (const [k, v] of input.serviceEnv) if (!tmp.has(k)) kubeEnv.set(k, v);
  const env = new Map<string, string>(Object.entries(input.image.env ?? {}));
  for (const [k, v] of kubeEnv) env.set(k, v);
  for (const [k, v] of testEnvAnnotation(pod)) env.set(k, v);
  return { env, kubeEnv };
}

/**
 * Test-only, no kubelet does this: extra environment for every container of a pod, from the pod's
 * annotation {@link TEST_ENV_ANNOTATION} (a JSON object of names to string values). It lets a fault test
 * reach a Job's process (e.g. QDRANT_OPERATOR_CRASH_AT, src/runtime/crash-point.ts) through the
 * resources' `spec.job.podAnnotations`, without the operator growing a test-only field. Added last, over
 * the container's own. A value that is not such an object is a CreateContainerConfigError.
 */
export const TEST_ENV_ANNOTATION = "testenv.qdrant-operator.io/env";

function testEnvAnnotation(pod: Pod): Array<[string, string]> {
  const raw = pod.metadata.annotations?.[TEST_ENV_ANNOTATION];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((v) => typeof v === "string")) {
    throw new ContainerConfigError(`annotation ${TEST_ENV_ANNOTATION} must be a JSON object of strings`);
  }
  return Object.entries(parsed as Record<string, string>).filter(([k]) => validName(k));
}

/** command/args with `$(VAR)` expanded against the container's final environment, as the kubelet does. */
export function expandArgv(argv: string[], env: Map<string, string>): string[] {
  const mapping = mappingFuncFor(env);
  return argv.map((a) => expand(a, mapping));
}
