/** Where the test environment keeps its recipes, its cached binaries and its per-run directories. */
import { createHash } from "node:crypto";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root (this file is test/env/paths.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** Go recipes (go.mod + go.sum + tiny mains) kept in the repo. */
export const RECIPES_DIR = join(REPO_ROOT, "test", "env", "go");

/** Built binaries live here, keyed by recipe hash, so a fresh clone on a warm machine builds nothing. */
export const CACHE_DIR = process.env.QDRANT_OPERATOR_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "qdrant-operator");

/**
 * A short name for one checkout (a hash of its root's path). The temp dir is shared by every clone on the
 * machine; the state and run dirs below carry this key, so `testenv down` or a stale-run sweep in one
 * clone never touches the environment another clone (or its running `npm test`) is using.
 */
export function checkoutKey(root: string): string {
  return `c${createHash("sha256").update(root).digest("hex").slice(0, 12)}`;
}

/** This checkout's prefix for its temp dirs: `$TMPDIR/qdrant-operator-testenv-<checkout key>`. */
const CHECKOUT_TEMP = join(tmpdir(), `qdrant-operator-testenv-${checkoutKey(REPO_ROOT)}`);

/** Every run directory of this checkout starts with this prefix, so its stale ones (and only its) can be found. */
export const RUN_DIR_PREFIX = `${CHECKOUT_TEMP}-run-`;

/** The long-lived environment of this checkout's `testenv up` keeps its state here. */
export const SHARED_STATE_DIR = CHECKOUT_TEMP;
