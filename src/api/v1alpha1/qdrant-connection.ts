/**
 * QdrantConnection: how to reach one Qdrant deployment (standalone or distributed). A resource of its own
 * because every other kind needs it, and the API key and CA belong in one reviewed place (as Velero's
 * BackupStorageLocation holds storage settings once for all backups).
 */
import { Type, type Static } from "@sinclair/typebox";
import { cel, ObjectName, StringEnum } from "../schema-helpers.ts";
import { Conditions, Port, SecretKeySelector } from "./common.ts";

export const ServiceEndpoint = Type.Object(
  {
    name: ObjectName("Name of the Service in front of Qdrant's REST port."),
    namespace: Type.Optional(ObjectName("Namespace of the Service; defaults to the QdrantConnection's.")),
    port: Type.Optional({ ...Port, default: 6333 }),
  },
  { description: "A Kubernetes Service in front of Qdrant's REST port." },
);

export const PeerDiscovery = Type.Object(
  {
    mode: StringEnum(["Cluster", "Static", "None"] as const, {
      description:
        "Cluster: ask GET /cluster for the peers and derive each REST address from its p2p URI (same host, restPort). Static: use urls. None: standalone, only the main address.",
      default: "Cluster",
    }),
    restPort: Type.Optional(Type.Integer({ description: "REST port of every peer (Cluster mode).", minimum: 1, maximum: 65535, default: 6333 })),
    scheme: Type.Optional(StringEnum(["http", "https"] as const, { description: "Scheme of the derived peer addresses.", default: "http" })),
    urls: Type.Optional(Type.Array(Type.String({ pattern: "^https?://" }), { description: "REST address of every peer (Static mode).", minItems: 1, "x-kubernetes-list-type": "set" })),
  },
  {
    description:
      "Snapshots are per peer, so backups and restores of a distributed Qdrant talk to every peer directly, never through a load-balanced Service.",
    ...cel({ rule: "self.mode == 'Static' ? has(self.urls) : !has(self.urls)", message: "urls is required with mode Static and allowed only then", fieldPath: ".urls" }),
  },
);

export const QdrantConnectionSpec = Type.Object(
  {
    url: Type.Optional(Type.String({ description: "Qdrant's REST URL, e.g. http://qdrant.qdrant.svc:6333.", pattern: "^https?://[^\\s]+$", maxLength: 2048 })),
    service: Type.Optional(ServiceEndpoint),
    apiKeySecretRef: Type.Optional({ ...SecretKeySelector, description: "The API key (service.api_key). Read-write: backups and restores need manage rights." }),
    tls: Type.Optional(
      Type.Object(
        {
          caSecretRef: Type.Optional({ ...SecretKeySelector, description: "PEM CA bundle that signs Qdrant's certificate." }),
          serverName: Type.Optional(Type.String({ description: "Expected name in Qdrant's certificate, if not the URL's host." })),
          insecureSkipVerify: Type.Optional(Type.Boolean({ description: "Do not verify Qdrant's certificate. For tests only.", default: false })),
        },
        { description: "TLS settings for https URLs." },
      ),
    ),
    peers: Type.Optional(PeerDiscovery),
    timeoutSeconds: Type.Optional(Type.Integer({ description: "Timeout of ordinary API calls. Snapshot creation and recovery are long calls and are not bounded by it.", minimum: 1, maximum: 3600, default: 30 })),
  },
  {
    description: "How to reach a Qdrant deployment.",
    ...cel({ rule: "has(self.url) != has(self.service)", message: "set exactly one of url or service" }),
  },
);
export type QdrantConnectionSpec = Static<typeof QdrantConnectionSpec>;

export const QdrantConnectionStatus = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Conditions),
  version: Type.Optional(Type.String({ description: "Qdrant's version, from GET /." })),
  mode: Type.Optional(StringEnum(["Standalone", "Distributed"] as const)),
  peers: Type.Optional(
    Type.Array(
      Type.Object({ id: Type.String({ description: "Peer id (a u64, as a string)." }), url: Type.String({ description: "The peer's REST address." }) }),
      { description: "The peers found at the last check." },
    ),
  ),
  lastCheckTime: Type.Optional(
    Type.String({
      format: "date-time",
      description: "When a check (every minute) last changed this status. A check that finds everything as recorded writes nothing; when the last one ran is the manager's metric qdrant_operator_check_timestamp_seconds.",
    }),
  ),
});
export type QdrantConnectionStatus = Static<typeof QdrantConnectionStatus>;
