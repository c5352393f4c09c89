/** Helpers for tests that run Jobs through the real Job controller and the node agent. */
import { BatchV1Api, type V1Job, type V1PodSpec } from "@kubernetes/client-node";
import { eventually, kubeConfig } from "./testenv.ts";

/** An image the local node agent maps to the project's Node 26; a real cluster pulls the real image. */
export const NODE_IMAGE = "docker.io/library/node:26";

export function jobManifest(name: string, pod: Partial<V1PodSpec> & Pick<V1PodSpec, "containers">, spec: Partial<V1Job["spec"]> = {}): V1Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      backoffLimit: 0,
      ...spec,
      template: { spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 5, ...pod } },
    },
  };
}

/** Waits until the Job has a true Complete or Failed condition and returns the Job. */
export async function waitForJobFinished(namespace: string, name: string, timeoutMs = 90_000): Promise<V1Job> {
  const batch = kubeConfig().makeApiClient(BatchV1Api);
  return eventually(`Job ${namespace}/${name} to finish`, async () => {
    const job = await batch.readNamespacedJob({ namespace, name });
    const done = job.status?.conditions?.some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    return done ? job : undefined;
  }, timeoutMs);
}

export function jobCondition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === "True");
}
