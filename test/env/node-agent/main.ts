/**
 * Entry point: `node test/env/node-agent/main.ts <config.json>` (test/env/node-agent-process.ts starts
 * it). Runs the agent until SIGTERM/SIGINT, then kills the pods' processes (SIGTERM, a short grace,
 * SIGKILL) so none outlives the agent, and exits.
 */
import { readFileSync } from "node:fs";
import { startAgent } from "./agent.ts";
import type { NodeAgentConfig } from "./config.ts";
import { createLogger } from "./logger.ts";

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write("usage: node test/env/node-agent/main.ts <config.json>\n");
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, "utf8")) as NodeAgentConfig;
const log = createLogger(config.nodeName);

/** Pod processes get this long after SIGTERM when the agent stops; the environment waits 15 s for it. */
const SHUTDOWN_GRACE_SECONDS = 5;

try {
  const agent = await startAgent(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "Node agent stopping");
    agent.stop(SHUTDOWN_GRACE_SECONDS).then(
      () => {
        log.info("Node agent stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err: String(err) }, "Node agent did not stop cleanly");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (err) {
  log.fatal({ err: String(err), stack: (err as Error).stack }, "Node agent failed to start");
  process.exit(1);
}
