/**
 * What the CollectionRollout controller's tests against the real manager share: a namespace watched by the
 * manager (as its generated ServiceAccount), connection "qdrant" to the environment's Qdrant, a seeded
 * 20-point blue collection of the test's own with an alias of the test's own pointing at it, and a fresh
 * green name; every name on Qdrant is deleted when the test ends (the shared Qdrant serves every file).
 * Readiness is a status or a Qdrant answer polled with `eventually`; nothing sleeps.
 */
import type { TestContext } from "node:test";
import { API_VERSION } from "../../../src/api/group.ts";
import { greenOwnerOf } from "../../../src/controllers/rollout/names.ts";
import type { QdrantApi } from "../../../src/qdrant/client.ts";
import { ensureCrds } from "../../helpers/crds.ts";
import { apply, getJson, waitForObject } from "../../helpers/kube-objects.ts";
import { kubectl } from "../../helpers/kubectl.ts";
import { startManager, type ManagerProcess } from "../../helpers/manager.ts";
import { apiKeyForSecret, qdrantApi, qdrantUnderTest, uniqueName, useCollection, type UseCollectionOptions } from "../../helpers/qdrant.ts";
import { rolloutObj, type Rollout } from "../../helpers/rollouts.ts";
import { eventually, useNamespace } from "../../helpers/testenv.ts";

export { apply, condition } from "../../helpers/kube-objects.ts";
export type { Rollout } from "../../helpers/rollouts.ts";

export const getRollout = (ns: string, name: string): Promise<Rollout | undefined> => getJson<Rollout>(ns, "collectionrollout", name);

/** Polls until `probe` holds of the rollout; a phase in `ends` other than wanted ends the wait at once with the status. */
export function waitFor(ns: string, name: string, what: string, probe: (r: Rollout) => boolean, opts: { ends?: string[]; timeoutMs?: number } = {}): Promise<Rollout> {
  const ends = opts.ends ?? ["Failed", "Aborted", "RolledBack"];
  return waitForObject<Rollout>(ns, "collectionrollout", name, what, (r) => {
    if (probe(r)) return true;
    if (r.status?.phase && ends.includes(r.status.phase)) throw new Error(`ended ${r.status.phase} instead: ${JSON.stringify(r.status)}`);
    return false;
  }, opts.timeoutMs ?? 120_000);
}

export async function events(ns: string, name: string): Promise<string> {
  return (await kubectl(["get", "-n", ns, "events.events.k8s.io", "--field-selector", `regarding.name=${name}`, "-o", "jsonpath={range .items[*]}{.type} {.reason}: {.note}{\"\\n\"}{end}"])).stdout;
}

/** Polls the rollout's Events until one matches `pattern`. */
export function eventMatching(ns: string, name: string, pattern: RegExp): Promise<string> {
  return eventually(`an Event of ${name} matching ${pattern}`, async () => {
    const said = await events(ns, name);
    return pattern.test(said) ? said : undefined;
  });
}

export interface RolloutWorld {
  ns: string;
  api: QdrantApi;
  manager: ManagerProcess;
  /** The seeded 20-point collection the alias points at. */
  blue: string;
  alias: string;
  /** A fresh name, deleted when the test ends. */
  green: string;
  /** Where the alias points now, on Qdrant (null: no such alias). */
  aliasTarget(): Promise<string | null>;
  /** The uid of the rollout green's metadata names as its creator. */
  greenOwner(collection?: string): Promise<string | undefined>;
  /** Another fresh name, deleted when the test ends. */
  freshName(prefix: string): string;
  /** A CollectionRollout of the world's alias to green on connection "qdrant"; `spec` adds or overrides fields. */
  rollout(name: string, spec: Record<string, unknown>): object;
}

export async function rolloutWorld(t: TestContext, prefix: string, opts: { blue?: UseCollectionOptions } = {}): Promise<RolloutWorld> {
  await ensureCrds();
  const api = qdrantApi();
  const blue = await useCollection(t, "rollout_blue", opts.blue ?? {});
  const alias = uniqueName("rollout_alias");
  await api.updateAliases([{ create_alias: { alias_name: alias, collection_name: blue } }]);
  t.after(async () => {
    await api.updateAliases([{ delete_alias: { alias_name: alias } }]).catch(() => undefined);
  });
  const freshName = (p: string) => {
    const name = uniqueName(p);
    t.after(async () => {
      await api.deleteCollection(name).catch(() => undefined);
    });
    return name;
  };
  const green = freshName("rollout_green");
  const ns = await useNamespace(t, prefix);
  const manager = await startManager(t, [ns]);
  await apply(ns, [
    { apiVersion: "v1", kind: "Secret", metadata: { name: "qdrant-key" }, stringData: { "api-key": apiKeyForSecret() } },
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "qdrant" }, spec: { url: qdrantUnderTest().url, apiKeySecretRef: { name: "qdrant-key", key: "api-key" }, peers: { mode: "None" } } },
  ]);
  return {
    ns,
    api,
    manager,
    blue,
    alias,
    green,
    freshName,
    async aliasTarget() {
      return (await api.listAliases()).find((a) => a.alias === alias)?.collection ?? null;
    },
    async greenOwner(collection = green) {
      return greenOwnerOf(await api.collectionMetadata(collection))?.uid;
    },
    rollout: (name, spec) => rolloutObj(name, alias, green, spec),
  };
}
