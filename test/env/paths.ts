/** Where the test environment keeps its recipes, its cached binaries and its per-run directories. */
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root (this file is test/env/paths.ts). */
export const REPO_ROOT = resolve(import.meta.dirname, "..", "..");

/** Go recipes (go.mod + go.sum + tiny mains) kept in the repo. */
export const RECIPES_DIR = join(REPO_ROOT, "test", "env", "go");

/** Built binaries live here, keyed by recipe hash, so a fresh clone on a warm machine builds nothing. */
export const CACHE_DIR = process.env.QDRANT_OPERATOR_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "qdrant-operator");

/** Every run directory starts with this prefix under the system temp dir, so stale ones can be found. */
export const RUN_DIR_PREFIX = join(tmpdir(), "qdrant-operator-testenv-");

/** The long-lived environment of `testenv up` keeps its state here. */
export const SHARED_STATE_DIR = join(tmpdir(), "qdrant-operator-testenv");
