/**
 * `qdrant-operator manager`: parses the configuration (exiting with every problem named before touching
 * the cluster), builds the runtime's manager with one informer per kind, registers the controllers and
 * runs until SIGTERM. Leader election, draining and lease release are the runtime's.
 */
import { backupController } from "../controllers/backup/controller.ts";
import { BackupMetrics } from "../controllers/backup/metrics.ts";
import { CheckMetrics } from "../controllers/shared/check-metrics.ts";
import { BACKUP_LABEL } from "../controllers/backup/names.ts";
import type { BackupObject } from "../controllers/backup/types.ts";
import type { JobObject } from "../controllers/shared/job-objects.ts";
import { restoreController } from "../controllers/restore/controller.ts";
import { RestoreMetrics } from "../controllers/restore/metrics.ts";
import { RESTORE_LABEL } from "../controllers/restore/names.ts";
import type { RestoreObject } from "../controllers/restore/types.ts";
import { rolloutController } from "../controllers/rollout/controller.ts";
import { RolloutMetrics } from "../controllers/rollout/metrics.ts";
import { ROLLOUT_LABEL } from "../controllers/rollout/names.ts";
import type { RolloutObject } from "../controllers/rollout/types.ts";
import { Turns } from "../controllers/shared/turns/turns.ts";
import { backupLocationController } from "../controllers/backup-location/controller.ts";
import { backupScheduleController } from "../controllers/backup-schedule/controller.ts";
import { qdrantConnectionController } from "../controllers/qdrant-connection/controller.ts";
import type { QdrantConnectionObject } from "../controllers/shared/resolve-connection.ts";
import type { BackupLocationObject } from "../controllers/shared/resolve-location.ts";
import {
  COLLECTION_ROLLOUTS,
  JOBS,
  QDRANT_BACKUP_LOCATIONS,
  QDRANT_BACKUP_SCHEDULES,
  QDRANT_BACKUPS,
  QDRANT_CONNECTIONS,
  QDRANT_RESTORES,
} from "../controllers/resources.ts";
import type { OperatorContext } from "../controllers/shared/context.ts";
import { ConfigError, LeaderElectionLostError } from "../runtime/errors.ts";
import { loadKubeAccess } from "../runtime/kube-access.ts";
import { KubeconfigError } from "../runtime/kubeconfig.ts";
import { EventRecorder } from "../runtime/events.ts";
import { createLogger } from "../runtime/logger.ts";
import { Manager } from "../runtime/manager.ts";
import { Redactor } from "../runtime/redact.ts";
import { managerHelp, parseManagerConfig } from "./config.ts";
import { clockFromEnv } from "./test-clock.ts";
import { StatusWriter } from "../runtime/status-writer.ts";
import { OPERATOR_NAME, OPERATOR_VERSION, REPORTING_CONTROLLER } from "../version.ts";

export async function runManager(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: ${OPERATOR_NAME} manager [flags]\n\n${managerHelp()}`);
    return 0;
  }
  let config, operator;
  try {
    ({ runtime: config, operator } = parseManagerConfig(argv, process.env));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`${OPERATOR_NAME} manager: ${err.message}\n\nRun \`${OPERATOR_NAME} manager --help\` for the flags.`);
    return 2;
  }
  const redactor = new Redactor();
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, redactor, base: { identity: config.identity } });
  let access;
  try {
    access = loadKubeAccess({ kubeconfig: config.kubeconfig });
  } catch (err) {
    if (!(err instanceof KubeconfigError)) throw err;
    console.error(`${OPERATOR_NAME} manager: ${err.message}`);
    return 2;
  }
  logger.info({ server: access.server, ...access.description }, access.description.transport === "own" ? "Loaded kubeconfig" : "Loaded kubeconfig; its credentials need @kubernetes/client-node");

  const mgr = Manager.fromConfig(config, access, { logger, userAgent: `${OPERATOR_NAME}/${OPERATOR_VERSION}` });
  mgr.metrics.setBuildInfo("qdrant_operator", { version: OPERATOR_VERSION });
  const events = new EventRecorder({ client: mgr.client, reportingController: REPORTING_CONTROLLER, reportingInstance: config.identity, logger, redactor });
  const ctx: OperatorContext = {
    client: mgr.client,
    status: new StatusWriter(mgr.client, { fieldManager: OPERATOR_NAME }),
    events,
    redactor,
    clock: clockFromEnv(process.env),
    logger,
    workers: config.workers,
  };
  const checkMetrics = new CheckMetrics(mgr.metrics.registry);
  mgr.addController(qdrantConnectionController(ctx, mgr.informerFor<QdrantConnectionObject>(QDRANT_CONNECTIONS), { metrics: checkMetrics }));
  mgr.addController(backupLocationController(ctx, mgr.informerFor<BackupLocationObject>(QDRANT_BACKUP_LOCATIONS), { metrics: checkMetrics }));
  mgr.addController(
    backupScheduleController(ctx, { schedules: mgr.informerFor(QDRANT_BACKUP_SCHEDULES), backups: mgr.informerFor(QDRANT_BACKUPS), restores: mgr.informerFor(QDRANT_RESTORES) }, { registry: mgr.metrics.registry }),
  );
  const connections = mgr.informerFor<QdrantConnectionObject>(QDRANT_CONNECTIONS);
  const locations = mgr.informerFor<BackupLocationObject>(QDRANT_BACKUP_LOCATIONS);
  const backups = mgr.informerFor<BackupObject>(QDRANT_BACKUPS);
  const restores = mgr.informerFor<RestoreObject>(QDRANT_RESTORES);
  const rollouts = mgr.informerFor<RolloutObject>(COLLECTION_ROLLOUTS);
  // One line per Qdrant for every kind of work on it: backups and restores take turns together.
  const turns = new Turns(connections);
  mgr.addController(
    backupController(
      ctx,
      {
        backups,
        // Only the Jobs of backups: the cache holds none of the cluster's other Jobs.
        jobs: mgr.informerFor<JobObject>(JOBS, { selectors: { labelSelector: BACKUP_LABEL } }),
        connections,
        locations,
        turns,
        // What the operator builds (drills, rollouts' green collections): backups of all leave it out.
        restores,
        rollouts,
      },
      { defaultJobImage: operator.defaultJobImage, metrics: new BackupMetrics(mgr.metrics.registry) },
    ),
  );
  mgr.addController(
    restoreController(
      ctx,
      {
        restores,
        // Only the Jobs of restores.
        jobs: mgr.informerFor<JobObject>(JOBS, { selectors: { labelSelector: RESTORE_LABEL } }),
        connections,
        locations,
        backups,
        turns,
      },
      { defaultJobImage: operator.defaultJobImage, metrics: new RestoreMetrics(mgr.metrics.registry) },
    ),
  );
  mgr.addController(
    rolloutController(
      ctx,
      {
        rollouts,
        // Only the Jobs of rollouts (copy and gate Jobs).
        jobs: mgr.informerFor<JobObject>(JOBS, { selectors: { labelSelector: ROLLOUT_LABEL } }),
        connections,
        locations,
        restores,
        backups,
      },
      { defaultJobImage: operator.defaultJobImage, metrics: new RolloutMetrics(mgr.metrics.registry) },
    ),
  );
  mgr.installSignalHandlers();
  logger.info({ version: OPERATOR_VERSION, namespaces: config.namespaces, leaderElection: config.leaderElection.enabled }, "Starting manager");
  try {
    await mgr.run();
    await events.flush();
    return 0;
  } catch (err) {
    logger.fatal({ err }, err instanceof LeaderElectionLostError ? "Lost the leader lease; exiting" : "Manager failed");
    return 1;
  }
}
