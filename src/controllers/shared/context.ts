/** What every controller of the operator gets from the manager: API access, status, Events, redaction. */
import type { Logger } from "pino";
import type { Clock } from "../../runtime/clock.ts";
import type { EventRecorder } from "../../runtime/events.ts";
import type { Redactor } from "../../runtime/redact.ts";
import type { KubeClient } from "../../runtime/rest-client.ts";
import type { StatusWriter } from "../../runtime/status-writer.ts";

export interface OperatorContext {
  client: KubeClient;
  status: StatusWriter;
  events: EventRecorder;
  redactor: Redactor;
  clock: Clock;
  logger: Logger;
  workers: number;
}
