/**
 * The S3 client obeys the reconcile's ambient signal: a request started inside a reconcile whose signal
 * aborts (the manager lost its lease) stops at once, and one started after the abort is never answered
 * by the endpoint. The endpoint is a local HTTP server that accepts and never answers, so only the
 * signal can end the call.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { test, type TestContext } from "node:test";
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { runWithSignal } from "../../src/runtime/reconcile-signal.ts";
import { buildS3Client } from "../../src/s3/client.ts";

async function silentEndpoint(t: TestContext): Promise<{ endpoint: string; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req) => {
    requests.push(req);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

const settings = (endpoint: string) => ({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "a", secretAccessKey: "b" } });

test("an S3 call in flight stops when the reconcile's signal aborts", async (t) => {
  const { endpoint, requests } = await silentEndpoint(t);
  const client = buildS3Client(settings(endpoint));
  t.after(() => client.destroy());
  const reconcile = new AbortController();
  const call = runWithSignal(reconcile.signal, () => client.send(new HeadBucketCommand({ Bucket: "b" })));
  const settled = call.then(
    () => "answered",
    (err: unknown) => err,
  );
  while (requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
  reconcile.abort(new Error("lost the lease"));
  const err = await settled;
  assert.ok(err instanceof Error, `the call ended by the signal, not by an answer: ${String(err)}`);
  assert.match(`${err.name} ${err.message}`, /abort/i);
});

test("an S3 call started under an aborted reconcile signal is not answered", async (t) => {
  const { endpoint } = await silentEndpoint(t);
  const client = buildS3Client(settings(endpoint));
  t.after(() => client.destroy());
  const reconcile = new AbortController();
  reconcile.abort(new Error("lost the lease"));
  await assert.rejects(runWithSignal(reconcile.signal, () => client.send(new HeadBucketCommand({ Bucket: "b" }))), /abort/i);
});
