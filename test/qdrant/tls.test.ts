/**
 * The adapter over https with a private CA (QdrantConnection.spec.tls.caSecretRef): the endpoint's
 * dispatcher must carry every call, the js-client ones included (that client otherwise uses an undici
 * Agent of its own, which trusts only the public CAs). The emulator speaks plain HTTP, so a TLS proxy
 * with a certificate from a throwaway CA stands in front of it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, type AddressInfo } from "node:net";
import { createServer, type Server } from "node:tls";
import { startEmulator, type EmulatorHandle } from "../emulator/index.ts";
import { createCertificateAuthority } from "../env/pki.ts";
import { isOperatorError } from "../../src/errors.ts";
import { QdrantApi } from "../../src/qdrant/client.ts";
import { tlsDispatcher } from "../../src/qdrant/rest.ts";

describe("QdrantApi over https with a private CA", () => {
  let emu: EmulatorHandle;
  let proxy: Server;
  let url: string;
  let caPem: string;
  before(async () => {
    emu = await startEmulator();
    const ca = await createCertificateAuthority("qdrant-operator-test-qdrant-ca");
    caPem = ca.cert;
    const serving = await ca.sign({ commonName: "127.0.0.1", usage: "server", ipAddresses: ["127.0.0.1"], dnsNames: ["localhost"] });
    const upstream = new URL(emu.url);
    proxy = createServer({ cert: serving.cert, key: serving.key }, (socket) => {
      const to = connect(Number(upstream.port), upstream.hostname);
      socket.pipe(to).pipe(socket);
      to.on("error", () => socket.destroy());
      socket.on("error", () => to.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => proxy.close(resolve));
    await emu.stop();
  });

  it("makes js-client and raw calls, and streams a snapshot, through the endpoint's dispatcher", async () => {
    const dispatcher = tlsDispatcher({ caPem });
    const qdrant = new QdrantApi({ url, timeoutMs: 10_000, dispatcher });
    try {
      await qdrant.createCollection("secure", { vectors: { size: 2, distance: "Dot" } });
      await qdrant.upsert("secure", [{ id: 1, vector: [1, 2] }]);
      assert.equal(await qdrant.count("secure"), 1);
      assert.deepEqual(await qdrant.listCollections(), ["secure"]);
      assert.equal((await qdrant.clusterStatus()).status, "disabled");
      const snapshot = await qdrant.createSnapshot({ collection: "secure" });
      let size = 0;
      for await (const chunk of (await qdrant.downloadSnapshot({ collection: "secure" }, snapshot.name)).body) size += (chunk as Buffer).length;
      assert.equal(size, snapshot.size);
      assert.equal(await qdrant.deleteSnapshot({ collection: "secure" }, snapshot.name), true);
    } finally {
      await dispatcher.close();
    }
  });

  it("refuses the server's certificate without the CA, as QdrantUnreachable", async () => {
    const untrusting = new QdrantApi({ url, timeoutMs: 10_000 });
    const certificate = (err: unknown) => isOperatorError(err, "QDRANT_UNREACHABLE") && /certificate/i.test(err.message);
    await assert.rejects(untrusting.listCollections(), certificate);
    await assert.rejects(untrusting.clusterStatus(), certificate);
  });
});
