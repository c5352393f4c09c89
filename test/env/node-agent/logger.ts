/**
 * The agent's log: JSON lines on stdout (the environment redirects them to logs/node-agent.log), with
 * kubelet-style messages ("Started container", "Killing container") so the log reads like a kubelet's.
 */
import { pino, type Logger } from "pino";

export type { Logger };

export function createLogger(nodeName: string): Logger {
  return pino({ base: { component: "node-agent", node: nodeName }, timestamp: pino.stdTimeFunctions.isoTime });
}
