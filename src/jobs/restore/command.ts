/**
 * `job restore`: what a restore Job's container runs. Reads the plan and the secrets from the
 * environment (contract.ts) and runs the restore (run-restore.ts); everything around it — the result in
 * the termination message, the exit code, SIGTERM, keeping secrets and presigned URLs out of logs and
 * messages — is every Job's (src/jobs/protocol/run-command.ts). Every failure it writes carries the
 * claim on the target while the claim stands (claim.ts). Logs are pino JSON on stdout.
 */
import { readFileSync } from "node:fs";
import type { S3Client } from "@aws-sdk/client-s3";
import { agekeysFromEnv } from "../../backup/codec/age-keys.ts";
import { openMountedConnection } from "../../qdrant/mounted-connection.ts";
import { buildS3Client, s3Target } from "../../s3/client.ts";
import { OPERATOR_NAME, OPERATOR_VERSION } from "../../version.ts";
import { JOB_SECRET_ENV } from "../protocol/env.ts";
import { runJobCommand, type JobRunContext } from "../protocol/run-command.ts";
import { TargetClaim } from "./claim.ts";
import { RESTORE_ENV, type RestoreJobPlan, type RestoreJobSuccess } from "./contract.ts";
import { parseRestorePlan } from "./plan.ts";
import { smallerRestoreResults } from "./result.ts";
import { runRestore } from "./run-restore.ts";

export function restoreCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // One run per process: the claim is the run's, and every failure the command writes asks it.
  let claim: TargetClaim | undefined;
  return runJobCommand(
    {
      name: "restore",
      title: "Restore",
      stopped: "the restore",
      secretEnv: JOB_SECRET_ENV,
      smaller: smallerRestoreResults,
      failureDetail: () => claim?.detail(),
      run: (ctx) => restore(ctx, (claim = new TargetClaim((failure) => ctx.provisional(failure)))),
    },
    env,
  );
}

async function restore({ env, log, cleanup, redactor }: JobRunContext, claim: TargetClaim): Promise<RestoreJobSuccess> {
  const startTime = new Date();
  let s3: S3Client | undefined;
  let qdrant: ReturnType<typeof openMountedConnection> | undefined;
  const abort = new AbortController();
  // Registered first: on SIGTERM the registry starts its steps in order, so the calls in flight are
  // aborted before the step that deletes the collection they write into starts.
  const unregisterAbort = cleanup.add("abort the calls in flight", () => Promise.resolve(abort.abort(new Error("the restore was stopped by SIGTERM"))));
  try {
    const plan = parseRestorePlan(env[RESTORE_ENV.plan]);
    log.info(
      { restore: `${plan.restore.namespace}/${plan.restore.name}`, attempt: plan.attempt, backupId: plan.backupId, mode: plan.mode, method: plan.method, source: plan.sourceCollection, target: plan.targetCollection, overwrite: plan.overwrite, ownedTarget: plan.ownedTarget, operator: `${OPERATOR_NAME} ${OPERATOR_VERSION}` },
      "Starting restore",
    );
    qdrant = openMountedConnection({
      url: plan.qdrant.url,
      timeoutSeconds: plan.qdrant.timeoutSeconds,
      ...(env[RESTORE_ENV.qdrantApiKey] ? { apiKey: env[RESTORE_ENV.qdrantApiKey] } : {}),
      ...(env[RESTORE_ENV.qdrantCaFile] ? { caFile: env[RESTORE_ENV.qdrantCaFile] } : {}),
      ...(plan.qdrant.tls?.serverName ? { serverName: plan.qdrant.tls.serverName } : {}),
      ...(plan.qdrant.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    // Before any connection: a key file that does not parse is InvalidEncryptionKey naming the field.
    const keys = agekeysFromEnv(env);
    s3 = s3ClientFromEnv(plan, env);
    const ok = await runRestore({ plan, qdrant: qdrant.qdrant, s3, log, startTime, cleanup, redactor, claim, signal: abort.signal, keys });
    log.info({ backupId: ok.backupId, target: ok.targetCollection, bytes: ok.bytes, points: ok.pointsCount, seconds: (Date.parse(ok.verifiedTime) - startTime.getTime()) / 1000 }, "Restore succeeded");
    return ok;
  } finally {
    unregisterAbort();
    s3?.destroy();
    // Keep-alive sockets would hold the process open after the work is done.
    await qdrant?.close().catch(() => undefined);
  }
}

/**
 * Static credentials when the pod has them, else the SDK's default chain (IRSA, pod identity); the CA
 * from its mounted file. Built by the one builder the manager uses too (src/s3/client.ts).
 */
function s3ClientFromEnv(plan: RestoreJobPlan, env: NodeJS.ProcessEnv): S3Client {
  const accessKeyId = env[RESTORE_ENV.awsAccessKeyId];
  const secretAccessKey = env[RESTORE_ENV.awsSecretAccessKey];
  const sessionToken = env[RESTORE_ENV.awsSessionToken];
  const caFile = env[RESTORE_ENV.s3CaFile];
  return buildS3Client({
    ...s3Target(plan.s3),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(caFile ? { caPem: readFileSync(caFile, "utf8") } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
}
