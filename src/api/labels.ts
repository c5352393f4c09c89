/**
 * Labels and annotations the operator puts on the API's own objects, which users select by
 * (`kubectl get qb -l qdrant-operator.dev/schedule=nightly`) and which the bucket records: the backup Job
 * copies the schedule label into every manifest (`source.scheduleName`), where a restore's
 * `latest.scheduleRef` looks for it. API, not one controller's detail: the schedule controller writes
 * them, the backup controller and the backup selection read them.
 */
import { GROUP } from "./group.ts";

/** Set by the schedule controller on the QdrantBackups it creates: the schedule's name (bounded to 63). */
export const SCHEDULE_LABEL = `${GROUP}/schedule`;
/** Set by the schedule controller: the tick (RFC 3339) this backup is for. */
export const SCHEDULED_TIME_ANNOTATION = `${GROUP}/scheduled-time`;
