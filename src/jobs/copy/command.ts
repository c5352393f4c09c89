/**
 * `job copy`: what a rollout's copy Job's container runs. Reads the plan and the connection's secrets from
 * the environment (contract.ts) and copies the source's points into green (run-copy.ts); everything around
 * it — the result in the termination message, the exit code, SIGTERM, keeping the API key out of logs and
 * messages — is every Job's (src/jobs/protocol/run-command.ts). SIGTERM aborts the calls in flight; what a
 * kill leaves is green's own progress record, which the next attempt resumes from. Logs are pino JSON on
 * stdout.
 */
import { openMountedConnection } from "../../qdrant/mounted-connection.ts";
import { OPERATOR_NAME, OPERATOR_VERSION } from "../../version.ts";
import { JOB_SECRET_ENV } from "../protocol/env.ts";
import { runJobCommand, type JobRunContext } from "../protocol/run-command.ts";
import { COPY_ENV, type CopyJobSuccess } from "./contract.ts";
import { parseCopyPlan } from "./plan.ts";
import { runCopy } from "./run-copy.ts";

export function copyCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runJobCommand({ name: "copy", title: "Copy", stopped: "the copy", secretEnv: JOB_SECRET_ENV, run: copy }, env);
}

async function copy({ env, log, cleanup }: JobRunContext): Promise<CopyJobSuccess> {
  const startTime = new Date();
  const abort = new AbortController();
  const unregisterAbort = cleanup.add("abort the calls in flight", () => Promise.resolve(abort.abort(new Error("the copy was stopped by SIGTERM"))));
  let qdrant: ReturnType<typeof openMountedConnection> | undefined;
  try {
    const plan = parseCopyPlan(env[COPY_ENV.plan]);
    log.info(
      { rollout: `${plan.rollout.namespace}/${plan.rollout.name}`, attempt: plan.attempt, source: plan.source, target: plan.target, batchSize: plan.batchSize, resumeFrom: plan.resumeFrom ?? null, operator: `${OPERATOR_NAME} ${OPERATOR_VERSION}` },
      "Starting copy",
    );
    qdrant = openMountedConnection({
      url: plan.qdrant.url,
      timeoutSeconds: plan.qdrant.timeoutSeconds,
      ...(env[COPY_ENV.qdrantApiKey] ? { apiKey: env[COPY_ENV.qdrantApiKey] } : {}),
      ...(env[COPY_ENV.qdrantCaFile] ? { caFile: env[COPY_ENV.qdrantCaFile] } : {}),
      ...(plan.qdrant.tls?.serverName ? { serverName: plan.qdrant.tls.serverName } : {}),
      ...(plan.qdrant.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    return await runCopy({ plan, qdrant: qdrant.qdrant, log, signal: abort.signal, startTime });
  } finally {
    unregisterAbort();
    // Keep-alive sockets would hold the process open after the work is done.
    await qdrant?.close().catch(() => undefined);
  }
}
