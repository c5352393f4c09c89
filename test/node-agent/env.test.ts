/** A container's environment, built in the kubelet's order from a fake API's Secrets and ConfigMaps. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError, type ApiClient } from "../env/node-agent/api-client.ts";
import { ContainerConfigError, containerEnv, expandArgv, kubernetesServiceEnv } from "../env/node-agent/env.ts";
import { PodObjects } from "../env/node-agent/objects.ts";
import type { Container, Pod } from "../env/node-agent/types.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

function fakeApi(objects: Record<string, unknown>): ApiClient {
  return {
    server: "https://127.0.0.1:6443",
    request<T>(path: string): Promise<T> {
      const obj = objects[path];
      return obj === undefined ? Promise.reject(new ApiError(404, "NotFound", `${path} not found`)) : Promise.resolve(obj as T);
    },
    watch: () => Promise.resolve(),
  };
}

const api = fakeApi({
  "/api/v1/namespaces/ns/secrets/creds": { metadata: {}, data: { token: b64("t0k"), USER: b64("from-secret") } },
  "/api/v1/namespaces/ns/configmaps/cfg": { metadata: {}, data: { USER: "from-cm", LEVEL: "debug", "bad=name": "x" } },
});

function build(container: Partial<Container>, image = { env: { PATH: "/bin", USER: "image" } }) {
  const pod: Pod = { metadata: { name: "p", namespace: "ns", uid: "u", labels: { app: "x" } }, spec: { nodeName: "node1", containers: [] } };
  return containerEnv({ pod, container: { name: "c", ...container }, image, objects: new PodObjects(api, "ns"), node: { cpu: "2", memory: "1Gi" }, serviceEnv: kubernetesServiceEnv(api.server) });
}

test("envFrom in order, then env; the image's ENV underneath; $(VAR) sees earlier entries and service vars", async () => {
  const { env, kubeEnv } = await build({
    envFrom: [{ configMapRef: { name: "cfg" } }, { secretRef: { name: "creds" }, prefix: "S_" }],
    env: [
      { name: "USER", value: "explicit" },
      { name: "URL", value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)/$(LEVEL)/$(LATER)" },
      { name: "LATER", value: "l" },
      { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
      { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: "MISSING", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } },
    ],
  });
  assert.equal(env.get("PATH"), "/bin", "image ENV");
  assert.equal(env.get("USER"), "explicit", "env beats envFrom beats image");
  assert.equal(env.get("LEVEL"), "debug");
  assert.equal(env.get("S_USER"), "from-secret");
  assert.equal(env.has("bad=name"), false, "invalid names from envFrom are skipped");
  assert.equal(env.get("URL"), "https://127.0.0.1:6443/debug/$(LATER)", "only earlier entries expand");
  assert.equal(env.get("TOKEN"), "t0k");
  assert.equal(env.get("NODE"), "node1");
  assert.equal(env.get("APP"), "x");
  assert.equal(env.has("MISSING"), false);
  assert.equal(env.get("KUBERNETES_PORT_6443_TCP_ADDR"), "127.0.0.1");
  assert.equal(kubeEnv.has("PATH"), false, "command/args expansion does not see the image's ENV");
  assert.deepEqual(expandArgv(["echo", "$(USER)", "$(PATH)", "$$(USER)"], kubeEnv), ["echo", "explicit", "$(PATH)", "$(USER)"]);
});

test("missing references are CreateContainerConfigErrors with the kubelet's messages", async () => {
  await assert.rejects(build({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "k" } } }] }), new ContainerConfigError('secret "nope" not found'));
  await assert.rejects(build({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "creds", key: "nokey" } } }] }), new ContainerConfigError("couldn't find key nokey in Secret ns/creds"));
  await assert.rejects(build({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "nokey" } } }] }), new ContainerConfigError("couldn't find key nokey in ConfigMap ns/cfg"));
  await assert.rejects(build({ envFrom: [{ configMapRef: { name: "nope" } }] }), new ContainerConfigError('configmap "nope" not found'));
  const { env } = await build({ envFrom: [{ configMapRef: { name: "nope", optional: true } }] });
  assert.equal(env.get("USER"), "image");
});
