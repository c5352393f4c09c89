import assert from "node:assert/strict";
import { test } from "node:test";
import { formatPretty } from "../../src/runtime/logger.ts";
import { REDACTED, Redactor, scrubAndTruncate } from "../../src/runtime/redact.ts";
import { captureLogs } from "./fixtures/logs.ts";

const SECRET = 'qd-key"9f8e\\7d6c';

test("registered values are scrubbed from strings in every encoding they travel in", () => {
  const r = new Redactor();
  r.register(SECRET);
  assert.equal(r.scrub(`GET /collections?api-key=${SECRET} failed`), `GET /collections?api-key=${REDACTED} failed`);
  assert.equal(r.scrub(JSON.stringify({ k: SECRET })), `{"k":"${REDACTED}"}`);
  assert.equal(r.scrub(Buffer.from(SECRET).toString("base64")), REDACTED);
  assert.equal(r.scrub(`?key=${encodeURIComponent(SECRET)}`), `?key=${REDACTED}`);
  assert.equal(r.scrub("nothing secret here"), "nothing secret here");
});

test("values from a Secret's data are registered decoded and encoded; short values are not", () => {
  const r = new Redactor();
  r.registerSecret({ data: { accessKey: Buffer.from("AKIAEXAMPLEKEY").toString("base64"), short: Buffer.from("ab").toString("base64") }, stringData: { token: "tok-123456" } });
  assert.equal(r.scrub("key AKIAEXAMPLEKEY token tok-123456 ab"), `key ${REDACTED} token ${REDACTED} ab`);
});

test("scrubDeep copies objects and errors with every string scrubbed", () => {
  const r = new Redactor();
  r.register("s3cr3t-value");
  const err = new Error("auth failed with s3cr3t-value");
  const out = r.scrubDeep({ a: ["x s3cr3t-value"], err }) as { a: string[]; err: { message: string; stack: string } };
  assert.deepEqual(out.a, [`x ${REDACTED}`]);
  assert.equal(out.err.message, `auth failed with ${REDACTED}`);
  assert.ok(!out.err.stack.includes("s3cr3t-value"));
  assert.equal(err.message, "auth failed with s3cr3t-value", "the original is untouched");
});

test("logs never contain a registered secret: message, fields, nested fields, error message and stack", () => {
  const r = new Redactor();
  const logs = captureLogs({ redactor: r });
  r.register(SECRET);
  const err = new Error(`request to http://qdrant:6333/?api-key=${SECRET} failed`);
  logs.logger.info({ url: `http://x/?k=${SECRET}`, nested: { deeper: { v: SECRET } } }, `connecting with ${SECRET}`);
  logs.logger.error({ err }, "Reconciler error");
  logs.logger.child({ apiKeyHint: SECRET }).warn("child bindings too");
  const text = logs.text();
  assert.ok(!text.includes(SECRET) && !text.includes(JSON.stringify(SECRET).slice(1, -1)), text);
  assert.equal(logs.records.length, 3);
  assert.ok(text.includes(REDACTED));
});

test("fields named like secrets are censored even when their value was never registered", () => {
  const logs = captureLogs({ redactor: new Redactor() });
  logs.logger.info({ apiKey: "unregistered-1", creds: { secretAccessKey: "unregistered-2" }, headers: { authorization: "Bearer unregistered-3" } }, "request");
  const text = logs.text();
  for (const v of ["unregistered-1", "unregistered-2", "unregistered-3"]) assert.ok(!text.includes(v), text);
});

test("Event notes are scrubbed and cut to the byte limit", () => {
  const r = new Redactor();
  r.register("hunter2-password");
  assert.equal(scrubAndTruncate(r, "login hunter2-password", 1024), `login ${REDACTED}`);
  const long = scrubAndTruncate(r, "é".repeat(1000), 1024);
  assert.ok(Buffer.byteLength(long) <= 1024);
  assert.ok(long.endsWith("..."));
});

test("the pretty format puts controller and object first and keeps the fields", () => {
  const line = formatPretty(JSON.stringify({ level: "info", time: "2030-01-01T00:00:00.000Z", controller: "widgets", namespace: "ns", name: "a", reconcileID: "r1", msg: "Reconciling" }));
  assert.equal(line, "2030-01-01T00:00:00.000Z INFO  [widgets ns/a] Reconciling reconcileID=r1\n");
});

test("a multi-line secret (an age key file) is scrubbed line by line, each line trimmed", () => {
  const identity = "AGE-SECRET-KEY-1GCF8SJQ74CF0HMSNY43RYF43Z9XZ40C5KXS76M2RRHTW2EXM25HQ3EXSJC";
  const old = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSJMZ8AB";
  const r = new Redactor();
  r.register(`# created: 2026-12-02T08:00:00Z\n  ${identity}  \r\n\t${old}\n`);
  assert.equal(r.scrub(`line: ${identity}`), `line: ${REDACTED}`);
  assert.equal(r.scrub(`got ${old} here`), `got ${REDACTED} here`);
});
