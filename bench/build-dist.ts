/**
 * The production build the benches run: `tsc -p tsconfig.build.json` compiles a checkout's src/ to its
 * dist/, as the image is built, so a Job or a manager runs `dist/main.js` like the deployed one (the
 * e2e tests' `src/main.ts` goes through Node's type stripping, which changes startup, CPU and memory).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Compiles `root` (default this checkout) to `root`/dist; throws with tsc's output when it fails. */
export function buildDist(root = REPO_ROOT): void {
  execFileSync(path.join(root, "node_modules/.bin/tsc"), ["-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit" });
}
