/**
 * `job backup`: what a backup Job's container runs. Reads the plan and the secrets from the environment
 * (see contract.ts) and runs the backup; everything around it — the result in the termination message,
 * the exit code, SIGTERM, keeping the secrets out of logs and messages — is every Job's
 * (src/jobs/protocol/run-command.ts). Logs are pino JSON on stdout.
 */
import { readFileSync } from "node:fs";
import type { S3Client } from "@aws-sdk/client-s3";
import { buildS3Client, s3Target } from "../../s3/client.ts";
import { OPERATOR_NAME, OPERATOR_VERSION } from "../../version.ts";
import { JOB_SECRET_ENV } from "../protocol/env.ts";
import { runJobCommand, type JobRunContext } from "../protocol/run-command.ts";
import { BACKUP_ENV, type BackupJobPlan, type BackupJobSuccess } from "./contract.ts";
import { parsePlan } from "./plan.ts";
import { openMountedConnection } from "../../qdrant/mounted-connection.ts";
import { smallerBackupResults } from "./result.ts";
import { runBackup } from "./run-backup.ts";
import { agekeysFromEnv } from "../../backup/codec/age-keys.ts";

export function backupCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runJobCommand({ name: "backup", title: "Backup", stopped: "the backup", secretEnv: JOB_SECRET_ENV, run: backup, smaller: smallerBackupResults }, env);
}

async function backup({ env, log, cleanup }: JobRunContext): Promise<BackupJobSuccess> {
  let s3: S3Client | undefined;
  let qdrant: ReturnType<typeof openMountedConnection> | undefined;
  try {
    const plan = parsePlan(env[BACKUP_ENV.plan]);
    log.info({ backupId: plan.backupId, mode: plan.mode, collections: plan.collections, bucket: plan.s3.bucket, operator: `${OPERATOR_NAME} ${OPERATOR_VERSION}` }, "Starting backup");
    const made = openMountedConnection({
      url: plan.qdrant.url,
      timeoutSeconds: plan.qdrant.timeoutSeconds,
      ...(env[BACKUP_ENV.qdrantApiKey] ? { apiKey: env[BACKUP_ENV.qdrantApiKey] } : {}),
      ...(env[BACKUP_ENV.qdrantCaFile] ? { caFile: env[BACKUP_ENV.qdrantCaFile] } : {}),
      ...(plan.qdrant.tls?.serverName ? { serverName: plan.qdrant.tls.serverName } : {}),
      ...(plan.qdrant.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    s3 = s3ClientFromEnv(plan, env);
    qdrant = made;
    // Parsed only when the plan encrypts: a key file the Job does not need is not read at all.
    const keys = plan.encoding?.encryption ? agekeysFromEnv(env) : undefined;
    const ok = await runBackup(plan, qdrant.qdrant, s3, log, cleanup, keys);
    log.info({ backupId: ok.backupId, sizeBytes: ok.sizeBytes, collections: ok.collections?.map((c) => c.name) }, "Backup succeeded");
    return ok;
  } finally {
    s3?.destroy();
    // Keep-alive sockets would hold the process open after the work is done.
    await qdrant?.close().catch(() => undefined);
  }
}

/**
 * Static credentials when the pod has them, else the SDK's default chain (IRSA, pod identity); the CA
 * from its mounted file. Built by the one builder the manager uses too (src/s3/client.ts).
 */
function s3ClientFromEnv(plan: BackupJobPlan, env: NodeJS.ProcessEnv): S3Client {
  const accessKeyId = env[BACKUP_ENV.awsAccessKeyId];
  const secretAccessKey = env[BACKUP_ENV.awsSecretAccessKey];
  const sessionToken = env[BACKUP_ENV.awsSessionToken];
  const caFile = env[BACKUP_ENV.s3CaFile];
  return buildS3Client({
    ...s3Target(plan.s3),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(caFile ? { caPem: readFileSync(caFile, "utf8") } : {}),
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
}
