/**
 * `job backup`: what a backup Job's container runs. Reads the plan and the secrets from the environment
 * (see contract.ts), runs the backup, writes the result to the termination message file and returns the
 * exit code. Logs are pino JSON on stdout; no secret is logged (the plan holds none, and error messages
 * are scrubbed of the secret values before they are logged or reported).
 */
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { pino } from "pino";
import { OPERATOR_NAME, OPERATOR_VERSION } from "../../version.ts";
import { OperatorError } from "../../errors.ts";
import { CleanupRegistry } from "./cleanup-registry.ts";
import { BACKUP_ENV, type BackupJobPlan, type BackupJobResult } from "./contract.ts";
import { parsePlan } from "./plan.ts";
import { qdrantAccess, type QdrantAccess } from "./qdrant-calls.ts";
import { DEFAULT_RESULT_FILE, exitCodeFor, failureResult, scrub, writeResult } from "./result.ts";
import { runBackup } from "./run-backup.ts";

export async function backupCommand(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const log = pino({ base: { job: "backup" }, timestamp: pino.stdTimeFunctions.isoTime });
  const secrets = [env[BACKUP_ENV.qdrantApiKey], env[BACKUP_ENV.awsSecretAccessKey], env[BACKUP_ENV.awsSessionToken]];
  const resultFile = env[BACKUP_ENV.resultFile] || DEFAULT_RESULT_FILE;
  let result: BackupJobResult;
  let s3: S3Client | undefined;
  let access: QdrantAccess | undefined;
  const cleanup = new CleanupRegistry();
  process.once("SIGTERM", () => void onSigterm(cleanup, log, resultFile));
  try {
    const plan = parsePlan(env[BACKUP_ENV.plan]);
    log.info({ backupId: plan.backupId, mode: plan.mode, collections: plan.collections, bucket: plan.s3.bucket, operator: `${OPERATOR_NAME} ${OPERATOR_VERSION}` }, "Starting backup");
    const made = qdrantAccess({
      timeoutSeconds: plan.qdrant.timeoutSeconds,
      ...(env[BACKUP_ENV.qdrantApiKey] ? { apiKey: env[BACKUP_ENV.qdrantApiKey] } : {}),
      ...(env[BACKUP_ENV.qdrantCaFile] ? { caFile: env[BACKUP_ENV.qdrantCaFile] } : {}),
      ...(plan.qdrant.tls?.serverName ? { serverName: plan.qdrant.tls.serverName } : {}),
      ...(plan.qdrant.tls?.insecureSkipVerify ? { insecureSkipVerify: true } : {}),
    });
    s3 = s3ClientFromEnv(plan, env);
    access = made;
    const ok = await runBackup(plan, access, s3, log, cleanup);
    result = ok;
    log.info({ backupId: ok.backupId, sizeBytes: ok.sizeBytes, collections: ok.collections?.map((c) => c.name) }, "Backup succeeded");
  } catch (err) {
    result = failureResult(err, secrets);
    log.error({ reason: result.reason, retryable: result.retryable, err: scrub((err as Error).stack ?? String(err), secrets) }, `Backup failed: ${result.message}`);
  } finally {
    s3?.destroy();
    // Keep-alive sockets would hold the process open after the work is done.
    await Promise.all([access?.dispatcher.close(), access?.longDispatcher.close()]).catch(() => undefined);
  }
  try {
    writeResult(resultFile, result);
  } catch (err) {
    log.error({ file: resultFile, err: (err as Error).message }, "Could not write the result file");
  }
  return exitCodeFor(result);
}

/** How long SIGTERM cleanup may take: inside Kubernetes' default 30 s grace period. */
const SIGTERM_CLEANUP_MS = 20_000;

/**
 * SIGTERM: undo what is outstanding (snapshots on the peers, the multipart upload in flight), report a
 * retryable failure and exit, all within the grace period. The run's own promise chain is abandoned;
 * the pending markers still cover anything the cleanup could not finish, for a retry.
 */
async function onSigterm(cleanup: CleanupRegistry, log: pino.Logger, resultFile: string): Promise<void> {
  log.warn("Received SIGTERM; deleting this run's snapshots and aborting its uploads");
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([`cleanup did not finish within ${SIGTERM_CLEANUP_MS} ms`]), SIGTERM_CLEANUP_MS).unref());
  const problems = await Promise.race([cleanup.runAll(), timeout]);
  for (const p of problems) log.warn({ problem: p }, "Cleanup step failed");
  const result = failureResult(new OperatorError("JOB_TERMINATED", "the backup was stopped by SIGTERM (the Job was deleted, hit its deadline, or its node is draining)"), []);
  try {
    writeResult(resultFile, result);
  } catch (err) {
    log.error({ file: resultFile, err: (err as Error).message }, "Could not write the result file");
  }
  log.flush();
  process.exit(exitCodeFor(result));
}

/** Static credentials when the pod has them, else the SDK's default chain (IRSA, pod identity). */
function s3ClientFromEnv(plan: BackupJobPlan, env: NodeJS.ProcessEnv): S3Client {
  const accessKeyId = env[BACKUP_ENV.awsAccessKeyId];
  const secretAccessKey = env[BACKUP_ENV.awsSecretAccessKey];
  const sessionToken = env[BACKUP_ENV.awsSessionToken];
  const caFile = env[BACKUP_ENV.s3CaFile];
  return new S3Client({
    region: plan.s3.region,
    ...(plan.s3.endpoint ? { endpoint: plan.s3.endpoint } : {}),
    forcePathStyle: plan.s3.forcePathStyle,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(caFile ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(caFile, "utf8"), keepAlive: true }) }) } : {}),
    maxAttempts: 3,
    // The Job hashes every snapshot (SHA-256, checked against Qdrant's checksum and kept in the manifest):
    // a second per-part CRC32 adds CPU on the hot path and no protection.
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
}
