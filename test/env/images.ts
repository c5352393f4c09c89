/**
 * The node agent has no container runtime: an image is a local command. This map says, per image
 * reference, what its ENTRYPOINT, CMD and ENV would be, so a Pod spec written for a real cluster runs
 * unchanged here (command replaces the entrypoint, args replace CMD, as a container runtime does).
 */
import { join } from "node:path";
import { REPO_ROOT } from "./paths.ts";

export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  /** The image's own ENV; the pod's env is applied on top. Nothing else of the host's env leaks in. */
  env?: Record<string, string>;
  workingDir?: string;
  /**
   * Host directories holding the image's files (the repository, the Node binary). The node agent keeps
   * them visible even when a volume is mounted over one of their parents, as a real image's files would be.
   */
  paths?: string[];
}

/** The project's own image, as the Dockerfile builds it; locally its entrypoint is the CLI in src/. */
export const OPERATOR_IMAGE = "ghcr.io/qdrant-operator/qdrant-operator:dev";

const NODE_BIN_DIR = join(REPO_ROOT, "node_modules", "node", "bin");
const BASE_PATH = `${NODE_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`;

export function defaultImages(): Record<string, ImageConfig> {
  return {
    [OPERATOR_IMAGE]: { entrypoint: [join(NODE_BIN_DIR, "node"), join(REPO_ROOT, "src", "main.ts")], env: { PATH: BASE_PATH, NODE_ENV: "production" }, paths: [REPO_ROOT] },
    "docker.io/library/node:26": { cmd: ["node"], env: { PATH: BASE_PATH }, paths: [REPO_ROOT] },
    "docker.io/library/node:26-slim": { cmd: ["node"], env: { PATH: BASE_PATH }, paths: [REPO_ROOT] },
    "docker.io/library/busybox:1.37": { cmd: ["sh"], env: { PATH: "/usr/local/bin:/usr/bin:/bin" } },
  };
}
