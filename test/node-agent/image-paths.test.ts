/**
 * A volume over a parent of the repository (an emptyDir at /tmp when the repository is cloned under
 * /tmp, as CI may do) must not hide the image's files: on a real node the image has its own filesystem.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { REPO_ROOT } from "../env/paths.ts";
import { useNamespace } from "../helpers/testenv.ts";
import { core, isPhase, kubectl, NODE_IMAGE, useClusterWithNodeAgent, waitForDefaultServiceAccount, waitForPod } from "./support.ts";

useClusterWithNodeAgent();

test("an emptyDir mounted over the repository's top directory hides neither Node nor the repository", async (t) => {
  const ns = await useNamespace(t, "image-paths");
  await waitForDefaultServiceAccount(ns);
  const top = `/${REPO_ROOT.split("/")[1]}`; // e.g. /tmp or /work
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: "shadowed" },
      spec: {
        restartPolicy: "Never",
        containers: [
          {
            name: "main",
            image: NODE_IMAGE,
            command: ["node", "-e", `const fs = require("node:fs"); fs.writeFileSync("${top}/scratch.txt", "x"); console.log("package", JSON.parse(fs.readFileSync("${REPO_ROOT}/package.json", "utf8")).name, "scratch", fs.readdirSync("${top}").includes("scratch.txt"))`],
            volumeMounts: [{ name: "scratch", mountPath: top }],
          },
        ],
        volumes: [{ name: "scratch", emptyDir: {} }],
      },
    },
  });
  const pod = await waitForPod(ns, "shadowed", "the pod to finish", isPhase("Succeeded", "Failed"));
  const logs = await kubectl("-n", ns, "logs", "shadowed");
  assert.equal(pod.status?.phase, "Succeeded", logs);
  assert.match(logs, /package qdrant-operator scratch true/);
});
