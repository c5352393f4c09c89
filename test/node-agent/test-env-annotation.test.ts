/** The test-only env annotation (test/env/node-agent/env.ts): a pod's JSON annotation adds env to its containers. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ApiClient } from "../env/node-agent/api-client.ts";
import { ContainerConfigError, containerEnv, kubernetesServiceEnv, TEST_ENV_ANNOTATION } from "../env/node-agent/env.ts";
import { PodObjects } from "../env/node-agent/objects.ts";
import type { Pod } from "../env/node-agent/types.ts";

const api: ApiClient = { server: "https://127.0.0.1:6443", request: () => Promise.reject(new Error("no API here")), watch: () => Promise.resolve() };

function envOf(annotations?: Record<string, string>) {
  const pod: Pod = { metadata: { name: "p", namespace: "ns", uid: "u", ...(annotations ? { annotations } : {}) }, spec: { nodeName: "n", containers: [] } };
  return containerEnv({ pod, container: { name: "c", env: [{ name: "A", value: "own" }, { name: "B", value: "kept" }] }, image: { env: { PATH: "/bin" } }, objects: new PodObjects(api, "ns"), node: { cpu: "1", memory: "1Gi" }, serviceEnv: kubernetesServiceEnv(api.server) });
}

test("the annotation's variables are added last, over the container's own; none without it", async () => {
  const { env } = await envOf({ [TEST_ENV_ANNOTATION]: JSON.stringify({ A: "from-annotation", QDRANT_OPERATOR_CRASH_AT: "x.y" }) });
  assert.equal(env.get("A"), "from-annotation");
  assert.equal(env.get("B"), "kept");
  assert.equal(env.get("QDRANT_OPERATOR_CRASH_AT"), "x.y");
  assert.equal((await envOf()).env.get("QDRANT_OPERATOR_CRASH_AT"), undefined);
});

test("an annotation that is not a JSON object of strings is a container config error", async () => {
  for (const bad of ["not json", "[1]", JSON.stringify({ A: 1 })]) {
    await assert.rejects(envOf({ [TEST_ENV_ANNOTATION]: bad }), ContainerConfigError, bad);
  }
});
