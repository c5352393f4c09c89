/**
 * The redactor is what keeps a Secret's value out of what the operator writes when the value reaches a
 * message some other way: here a QdrantConnection whose URL's host name is the very API key its Secret
 * holds (a paste mistake), so every "cannot reach" message quotes it. The condition, the Events and the
 * manager's log show [REDACTED] in its place, and the secret scan every manager-backed test runs
 * (test/helpers/secret-scan.ts) finds the value nowhere. Without the redactor's scrub this test fails,
 * in its own assertion and in the scan.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { API_VERSION } from "../src/api/group.ts";
import { REDACTED } from "../src/runtime/redact.ts";
import { ensureCrds } from "../test/helpers/crds.ts";
import { apply, condition, waitForObject } from "../test/helpers/kube-objects.ts";
import { startManager } from "../test/helpers/manager.ts";
import { useNamespace } from "../test/helpers/testenv.ts";
import { secret } from "./helpers/backup-world.ts";
import { eventsOf } from "./helpers/restore-world.ts";

test("a Secret's value echoed in a message (a URL holding the API key) is scrubbed from the condition, Events and log", async (t) => {
  await ensureCrds();
  const ns = await useNamespace(t, "sec-redact");
  const manager = await startManager(t, [ns]);
  const key = `qk-${randomBytes(12).toString("hex")}`;
  await apply(ns, [
    secret("pasted-key", { "api-key": key }),
    // Port 9 on a name that does not resolve: unreachable, and every message about it quotes the URL.
    { apiVersion: API_VERSION, kind: "QdrantConnection", metadata: { name: "pasted" }, spec: { url: `http://${key}.invalid:9`, apiKeySecretRef: { name: "pasted-key", key: "api-key" }, peers: { mode: "None" } } },
  ]);
  const conn = await waitForObject<{ status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } }>(ns, "qdrantconnection", "pasted", "Ready False", (o) => condition(o, "Ready")?.status === "False");
  const message = condition(conn, "Ready")!.message;
  assert.ok(!message.includes(key), `the key in the condition: ${message}`);
  assert.ok(message.includes(REDACTED), `the URL is quoted, the key in it redacted: ${message}`);
  for (const e of await eventsOf(ns, "pasted")) assert.ok(!e.includes(key), `the key in an Event: ${e}`);
  assert.ok(!(await manager.log()).includes(key), "the key in the manager's log");
});
