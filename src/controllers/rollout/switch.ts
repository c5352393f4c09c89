/**
 * The switch: ONE `POST /collections/aliases` with `[{create_alias: {alias_name, collection_name}}]`.
 * create_alias re-points an existing alias in one action, so there is no moment without the alias and no
 * failure that leaves it missing or half-switched: the request is applied or it is not.
 *
 * Right before it, from one GET /aliases and one exists check: the target exists as a collection and is
 * not an alias (a green deleted or replaced since the decision must not get the traffic); the alias
 * points where the decision saw it (`from`), else someone moved it and this switch would undo their
 * change (AliasMoved; the next reconcile decides again). Already pointing at the target: no request (a
 * repeat after a crash between the switch and the status write). After it, the aliases are read again and
 * must show the alias at the target (else SwitchFailed, retried).
 *
 * The reconcile's signal is bound into the adapter (shared/qdrant-of.ts): a manager that lost its lease
 * aborts the request in flight; Qdrant then applied it or not, and the next leader's re-read tells which.
 */
import { ERROR_CODES } from "../../errors.ts";
import type { OperatorContext } from "../shared/context.ts";
import { explained, qdrantOf } from "../shared/qdrant-of.ts";
import type { QdrantConnectionObject } from "../shared/resolve-connection.ts";

export type SwitchResult =
  | { ok: true; changed: boolean; from: string | null; durationSeconds?: number }
  | { ok: false; reason: string; message: string };

export async function switchAlias(
  ctx: OperatorContext,
  connection: QdrantConnectionObject,
  alias: string,
  to: string,
  from: string | null,
  signal?: AbortSignal,
): Promise<SwitchResult> {
  try {
    const { api } = await qdrantOf(ctx, connection, signal);
    const aliases = await api.listAliases();
    const current = aliases.find((a) => a.alias === alias)?.collection ?? null;
    if (current === to) return { ok: true, changed: false, from: current };
    if (current !== from) {
      return { ok: false, reason: ERROR_CODES.ALIAS_MOVED.reason, message: `alias ${alias} points at ${current ?? "nothing"}, not at ${from ?? "nothing"} as it did when this switch was decided; not switching it to ${to}` };
    }
    const toIsAlias = aliases.find((a) => a.alias === to);
    if (toIsAlias) return { ok: false, reason: ERROR_CODES.GREEN_IS_ALIAS.reason, message: `${to} is an alias (of collection ${toIsAlias.collection}), not a collection; alias ${alias} stays on ${current ?? "nothing"}` };
    if (!(await api.collectionExists(to))) return { ok: false, reason: ERROR_CODES.GREEN_MISSING.reason, message: `collection ${to} does not exist; alias ${alias} stays on ${current ?? "nothing"}` };
    const started = performance.now();
    await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: to } }]);
    const durationSeconds = (performance.now() - started) / 1000;
    const after = (await api.listAliases()).find((a) => a.alias === alias)?.collection ?? null;
    if (after !== to) {
      return { ok: false, reason: ERROR_CODES.SWITCH_FAILED.reason, message: `Qdrant accepted the switch of alias ${alias} to ${to}, but its aliases show it pointing at ${after ?? "nothing"}` };
    }
    return { ok: true, changed: true, from: current, durationSeconds };
  } catch (err) {
    const e = explained(ctx, err, connection);
    return { ok: false, reason: e.reason === ERROR_CODES.QDRANT_UNREACHABLE.reason ? e.reason : ERROR_CODES.SWITCH_FAILED.reason, message: `switching alias ${alias} to ${to} failed: ${e.message}` };
  }
}
