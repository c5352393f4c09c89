/** The operator's name and version, for logs, Events, metrics and `version`. */
import { readFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

export const OPERATOR_NAME = "qdrant-operator";
export const OPERATOR_VERSION = pkg.version;
/** Events' reportingController. */
export const REPORTING_CONTROLLER = "qdrant-operator.dev/manager";
/** The image Jobs run when their spec names none; the manager's --default-job-image overrides it. */
export const DEFAULT_JOB_IMAGE = `ghcr.io/qdrant-operator/qdrant-operator:${pkg.version === "0.1.0" ? "dev" : pkg.version}`;
