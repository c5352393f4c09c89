/**
 * A failpoint: a line where a fault test may SIGKILL the process it runs in, to prove that the state the
 * line leaves behind is one the next run (the next reconcile, the Job's next attempt) finishes. It knows
 * nothing of what the point means: src/crash-windows.ts is the one list of named windows and says what a
 * kill at each leaves and what closes it.
 *
 * Off unless the environment asks: `QDRANT_OPERATOR_CRASH_AT` names the one point to fire (anything else,
 * or nothing, makes {@link crashPoint} a string comparison). With `QDRANT_OPERATOR_CRASH_ONCE_FILE` it fires
 * only if that file does not exist yet, creating it first (exclusively), so a Job whose next attempt or
 * pod re-runs the same line passes it the second time; the file outlives the process on purpose.
 *
 * The kill is SIGKILL sent to itself: no `finally`, no cleanup registry, no exit handler runs, exactly as
 * an OOM kill or a lost node. The one line logged first is written synchronously (a buffered logger would
 * lose it with the process).
 */
import { writeFileSync, writeSync } from "node:fs";

export const CRASH_AT_ENV = "QDRANT_OPERATOR_CRASH_AT";
export const CRASH_ONCE_FILE_ENV = "QDRANT_OPERATOR_CRASH_ONCE_FILE";

/** True when this call should fire: `name` is the requested point and (with a once-file) it is the first time. */
export function shouldCrash(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[CRASH_AT_ENV] !== name) return false;
  const once = env[CRASH_ONCE_FILE_ENV];
  if (!once) return true;
  try {
    writeFileSync(once, `${name}\n`, { flag: "wx" });
    return true;
  } catch {
    // The file exists: an earlier process fired here already (or it cannot be made: never fire then).
    return false;
  }
}

/** SIGKILLs this process when the environment names `name` (see the module's TSDoc); otherwise nothing. */
export function crashPoint(name: string, env: NodeJS.ProcessEnv = process.env): void {
  if (!shouldCrash(name, env)) return;
  writeSync(2, `${JSON.stringify({ level: "error", time: new Date().toISOString(), pid: process.pid, point: name, msg: "Killing the process at crash point" })}\n`);
  process.kill(process.pid, "SIGKILL");
}
