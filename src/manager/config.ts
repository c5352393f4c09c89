/**
 * The operator's own settings, beside the generic runtime's (src/runtime/config.ts): parsed in the same
 * pass, so `manager --help` lists both and a bad value of either is named with all the others.
 */
import { configHelp, parseConfigWith, type ConfigExtension, type RuntimeConfig } from "../runtime/config.ts";
import { DEFAULT_JOB_IMAGE } from "../version.ts";

/** The Lease the operator's replicas elect a leader on (unless --leader-election-id names another). */
export const LEASE_NAME = "qdrant-operator-leader";

export interface OperatorConfig {
  /** Image of the Jobs the operator runs (backups), unless a resource's job settings name one. */
  defaultJobImage: string;
}

const SETTINGS = {
  jobImage: { flag: "default-job-image", env: "DEFAULT_JOB_IMAGE", help: `image for Jobs that do not name one (default ${DEFAULT_JOB_IMAGE})` },
};

// Image reference grammar of the OCI distribution spec: [registry[:port]/]path[:tag][@digest].
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?`;
const PATH_COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const IMAGE = new RegExp(String.raw`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);

/** The operator's settings as an extension of the runtime's configuration. */
export const OPERATOR_SETTINGS: ConfigExtension<OperatorConfig> = {
  settings: Object.values(SETTINGS),
  parse(raw, bad) {
    const image = raw(SETTINGS.jobImage) || DEFAULT_JOB_IMAGE;
    if (!IMAGE.test(image) || image.length > 512) bad(SETTINGS.jobImage, image, 'must be an image reference such as "registry.example.com/team/app:1.2.3"');
    return { defaultJobImage: image };
  },
};

/** Parses the manager's flags and environment; throws ConfigError naming every bad setting. */
export function parseManagerConfig(argv: readonly string[], env: NodeJS.ProcessEnv, opts: { inClusterNamespace?: () => string | undefined } = {}): { runtime: RuntimeConfig; operator: OperatorConfig } {
  const parsed = parseConfigWith(argv, env, { leaseName: LEASE_NAME, ...opts }, OPERATOR_SETTINGS);
  return { runtime: parsed.runtime, operator: parsed.extension };
}

/** Every flag of `manager`, the runtime's and the operator's, for --help. */
export function managerHelp(): string {
  return configHelp(OPERATOR_SETTINGS.settings);
}
