/** $(VAR) expansion, image references and entrypoint semantics, the downward API and log queries. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { podFieldValue, parseQuantity, resourceFieldValue } from "../env/node-agent/downward-api.ts";
import { expand, mappingFuncFor } from "../env/node-agent/expansion.ts";
import { containerArgv, normalizeImageRef, resolveImage } from "../env/node-agent/image.ts";
import { parseLogQuery } from "../env/node-agent/kubelet-server.ts";
import type { Pod } from "../env/node-agent/types.ts";

test("$(VAR) expansion matches Kubernetes' rules", () => {
  const m = mappingFuncFor(new Map([["A", "a"], ["EMPTY", ""]]), new Map([["A", "shadowed"], ["SVC", "s"]]));
  const cases: Array<[string, string]> = [
    ["$(A)", "a"],
    ["x$(A)y$(SVC)", "xays"],
    ["$(UNDEFINED)", "$(UNDEFINED)"],
    ["$$(A)", "$(A)"],
    ["$$$(A)", "$a"],
    ["$(A", "$(A"],
    ["$A", "$A"],
    ["$", "$"],
    ["$(EMPTY)-", "-"],
    ["$()", "$()"],
  ];
  for (const [input, want] of cases) assert.equal(expand(input, m), want, input);
});

test("image references normalise the way containerd does", () => {
  assert.equal(normalizeImageRef("node:26"), "docker.io/library/node:26");
  assert.equal(normalizeImageRef("node"), "docker.io/library/node:latest");
  assert.equal(normalizeImageRef("bitnami/kubectl:1.30"), "docker.io/bitnami/kubectl:1.30");
  assert.equal(normalizeImageRef("docker.io/node:26"), "docker.io/library/node:26");
  assert.equal(normalizeImageRef("ghcr.io/org/img:dev"), "ghcr.io/org/img:dev");
  assert.equal(normalizeImageRef("localhost:5000/img"), "localhost:5000/img:latest");
  assert.equal(normalizeImageRef("img@sha256:abc"), "docker.io/library/img@sha256:abc");
  const images = { "node:26": { cmd: ["node"] } };
  assert.equal(resolveImage(images, "docker.io/library/node:26")?.ref, "docker.io/library/node:26");
  assert.match(resolveImage(images, "node:26")!.imageID, /^docker\.io\/library\/node@sha256:[0-9a-f]{64}$/);
  assert.equal(resolveImage(images, "node:25"), undefined);
});

test("command replaces ENTRYPOINT and drops CMD; args replace CMD", () => {
  const image = { entrypoint: ["/ep"], cmd: ["--default"] };
  assert.deepEqual(containerArgv(image, {}), ["/ep", "--default"]);
  assert.deepEqual(containerArgv(image, { args: ["--x"] }), ["/ep", "--x"]);
  assert.deepEqual(containerArgv(image, { command: ["/bin/sh"] }), ["/bin/sh"]);
  assert.deepEqual(containerArgv(image, { command: ["/bin/sh"], args: ["-c", "true"] }), ["/bin/sh", "-c", "true"]);
  assert.deepEqual(containerArgv({ cmd: ["node"] }, { args: ["-e", "1"] }), ["-e", "1"], "args alone replace CMD, even if that leaves no program");
});

test("downward API fields and resources", () => {
  const pod: Pod = {
    metadata: { name: "p", namespace: "ns", uid: "u1", labels: { b: "2", a: "1" }, annotations: { note: 'say "hi"' } },
    spec: { nodeName: "n", serviceAccountName: "sa", containers: [{ name: "c", resources: { limits: { memory: "64Mi" }, requests: { cpu: "250m" } } }] },
  };
  const field = (fieldPath: string, vol = false) => podFieldValue(pod, { fieldPath }, vol);
  assert.equal(field("metadata.name"), "p");
  assert.equal(field("metadata.labels['a']"), "1");
  assert.equal(field("metadata.labels", true), 'a="1"\nb="2"');
  assert.equal(field("metadata.annotations", true), 'note="say \\"hi\\""');
  assert.throws(() => field("metadata.labels"), /unsupported/, "whole maps only in volumes");
  assert.equal(field("status.podIP"), "127.0.0.1");
  assert.equal(field("spec.serviceAccountName"), "sa");
  const c = pod.spec.containers[0]!;
  const node = { cpu: "2", memory: "1Gi" };
  assert.equal(resourceFieldValue(pod, c, { resource: "limits.memory" }, node), String(64 * 2 ** 20));
  assert.equal(resourceFieldValue(pod, c, { resource: "limits.memory", divisor: "1Mi" }, node), "64");
  assert.equal(resourceFieldValue(pod, c, { resource: "limits.cpu" }, node), "2", "an unset limit is the node's allocatable");
  assert.equal(resourceFieldValue(pod, c, { resource: "requests.cpu" }, node), "1", "cpu rounds up");
  assert.equal(resourceFieldValue(pod, c, { resource: "requests.cpu", divisor: "1m" }, node), "250");
  assert.equal(parseQuantity("1.5k"), 1500);
  assert.equal(parseQuantity("1e3"), 1000);
});

test("log query parameters decode as the kubelet decodes PodLogOptions", () => {
  const q = (s: string) => parseLogQuery(new URLSearchParams(s), 1_000_000);
  assert.deepEqual(q("follow=true&tailLines=10&timestamps=true&limitBytes=5&sinceSeconds=60&previous=true&stream=Stderr"), {
    follow: true,
    previous: true,
    timestamps: true,
    tailLines: 10,
    limitBytes: 5,
    since: new Date(1_000_000 - 60_000),
    streams: ["stderr"],
  });
  assert.deepEqual(q("tail=3"), { follow: false, previous: false, timestamps: false, tailLines: 3 });
  assert.equal(typeof q("tailLines=-1"), "string");
  assert.equal(typeof q("limitBytes=0"), "string");
  assert.equal(typeof q("stream=Both"), "string");
});
