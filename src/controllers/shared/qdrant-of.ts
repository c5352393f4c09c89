/**
 * The manager's way to call a QdrantConnection's Qdrant from a reconcile, for every controller that does
 * (restores' target checks, rollouts' views, switches and deletions): the connection's endpoint through
 * the one resolver (resolve-connection.ts) and the one adapter (qdrant/client.ts), bound to the
 * reconcile's signal so a manager that lost its lease stops every call in flight; and the one wording of
 * a failed call (explain-connection.ts), naming the connection's field to fix and redacted.
 */
import { isOperatorError } from "../../errors.ts";
import { QdrantApi } from "../../qdrant/client.ts";
import type { OperatorContext } from "./context.ts";
import { explainConnectionFailure } from "./explain-connection.ts";
import { connectionEndpoint, type QdrantConnectionObject } from "./resolve-connection.ts";

export type ConnectionDiscovery = Awaited<ReturnType<typeof connectionEndpoint>>["discovery"];

/** The adapter for `connection` (its key and CA read from their Secrets), every call stopped by `signal`. */
export async function qdrantOf(ctx: OperatorContext, connection: QdrantConnectionObject, signal?: AbortSignal): Promise<{ api: QdrantApi; discovery: ConnectionDiscovery }> {
  const resolved = await connectionEndpoint(ctx, connection);
  return { api: new QdrantApi(resolved.endpoint, signal), discovery: resolved.discovery };
}

/**
 * A coded failure of a call to `connection`'s Qdrant as `{reason, message}`: the connection's own words
 * naming its field when it is about the connection, else the error's message under the connection's name.
 * Anything not coded (a bug) is thrown again.
 */
export function explained(ctx: OperatorContext, err: unknown, connection: QdrantConnectionObject): { reason: string; message: string } {
  if (!isOperatorError(err)) throw err;
  const message = explainConnectionFailure(err.reason, err.message, connection, { from: "the manager" }) ?? `QdrantConnection ${connection.metadata?.name ?? ""}: ${err.message}`;
  return { reason: err.reason, message: ctx.redactor.scrub(message) };
}
