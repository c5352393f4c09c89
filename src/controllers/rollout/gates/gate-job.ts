/**
 * The user's gate Job (spec.gates.job), started once every Qdrant gate passed (the StartGateJob step): the
 * operator's one Job template (src/controllers/shared/job-template.ts) running the user's image with its
 * own command and args, under gates.job.settings. Its exit code is the verdict: 0 passes the "job" row;
 * any other exit, a killed pod, a Job deleted before it ended is a failure, never a pass (job-result.ts).
 *
 * What the container gets, nothing secret as a value:
 * - QDRANT_URL: the connection's REST address (a named Service port resolved: connectionAddress);
 * - QDRANT_COLLECTION: green, the collection to judge;
 * - QDRANT_ACTIVE_COLLECTION: the collection the alias points at (blue), "" when there is none;
 * - QDRANT_API_KEY from the connection's Secret (secretKeyRef) and QDRANT_CA_FILE, the path of its CA
 *   mounted from its Secret, when the connection has them (connectionJobEnvironment): the same names
 *   every operator Job gets;
 * - QDRANT_TLS_SERVER_NAME and QDRANT_TLS_INSECURE_SKIP_VERIFY ("true"), when the connection's
 *   spec.tls sets them: what a client needs to reach the same Qdrant the operator's own Jobs reach (they
 *   get them in their plans; a user's image reads them from its environment).
 *
 * backoffLimit 0: one pod, one verdict. A retried gate would turn a flaky "no" into a "yes"; and the
 * template's podFailurePolicy (exit 2 fails the Job at once) changes nothing with no retries to stop. The
 * template's hardening stays: a read-only root filesystem with a writable /tmp, no service-account token
 * (the verdict is the exit code, the pod needs no API rights), no privilege escalation.
 *
 * Pure: the same inputs give the same Job, and its name `rollout-<name>-<n>` is the lock (a manager killed
 * between the create and the status write adopts it by that name and its JOB_KIND annotation).
 */
import type { V1Job } from "@kubernetes/client-node";
import { tlsOptions } from "../../../qdrant/endpoint.ts";
import { jobTemplate } from "../../shared/job-template.ts";
import { connectionJobEnvironment, type ConnectionAddress, type QdrantConnectionObject } from "../../shared/resolve-connection.ts";
import { ATTEMPT_ANNOTATION, GATE_CONTAINER, JOB_KIND_ANNOTATION, labelValue, ROLLOUT_LABEL } from "../names.ts";
import type { RolloutObject } from "../types.ts";

/** The gate Job's own variables (the key and the CA come as every Job's: JOB_ENV). */
export const GATE_ENV = {
  url: "QDRANT_URL",
  collection: "QDRANT_COLLECTION",
  activeCollection: "QDRANT_ACTIVE_COLLECTION",
  tlsServerName: "QDRANT_TLS_SERVER_NAME",
  tlsInsecureSkipVerify: "QDRANT_TLS_INSECURE_SKIP_VERIFY",
} as const;

export const GATE_COMPONENT = "rollout-gate";

export interface GateJobInput {
  /** rollout-<name>-<n> (names.ts rolloutJobName). */
  jobName: string;
  /** The connection's address (connectionAddress). */
  address: ConnectionAddress;
  /** The collection to judge (spec.collection). */
  green: string;
  /** The alias's collection (status.activeCollection); null/undefined when the alias did not exist. */
  active?: string | null | undefined;
}

/** The gate Job; throws RangeError when the rollout has no spec.gates.job or no name (a caller's bug). */
export function buildGateJob(rollout: RolloutObject, connection: QdrantConnectionObject, input: GateJobInput): V1Job {
  const gate = rollout.spec.gates?.job;
  if (!gate) throw new RangeError("a gate Job needs spec.gates.job");
  const name = rollout.metadata?.name;
  if (!name) throw new RangeError("a CollectionRollout has a name");
  const secrets = connectionJobEnvironment(connection.spec);
  const tls = tlsOptions(connection.spec);
  // gates.job.image is the image; an image in gates.job.settings is not a second say.
  const { image: _ignored, ...settings } = gate.settings ?? {};
  return jobTemplate({
    name: input.jobName,
    owner: rollout,
    component: GATE_COMPONENT,
    labels: { [ROLLOUT_LABEL]: labelValue(name) },
    annotations: { [JOB_KIND_ANNOTATION]: "gate", [ATTEMPT_ANNOTATION]: "1" },
    container: GATE_CONTAINER,
    ...(gate.command ? { command: gate.command } : {}),
    args: gate.args ?? [],
    defaultImage: gate.image,
    env: [
      { name: GATE_ENV.url, value: input.address.url },
      { name: GATE_ENV.collection, value: input.green },
      { name: GATE_ENV.activeCollection, value: input.active ?? "" },
      ...(tls?.serverName ? [{ name: GATE_ENV.tlsServerName, value: tls.serverName }] : []),
      ...(tls?.insecureSkipVerify ? [{ name: GATE_ENV.tlsInsecureSkipVerify, value: "true" }] : []),
    ],
    secretEnv: secrets.env,
    volumes: secrets.volumes,
    volumeMounts: secrets.volumeMounts,
    settings,
    backoffLimit: 0,
  });
}
