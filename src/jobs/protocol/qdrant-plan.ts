/**
 * The part of every Job's plan that says how to reach Qdrant: its REST URL, the call timeout, how to find
 * every peer (each snapshot and each recover is per peer) and TLS settings — the connection's spec as the
 * controller resolved it, nothing secret (the API key and CA come by secretKeyRef and mounted files:
 * env.ts). One schema, so a backup Job and a restore Job read a connection the same way.
 */
import { Type, type Static } from "@sinclair/typebox";
import { StringEnum } from "../../api/schema-helpers.ts";

/** An http(s) URL with a host. */
export const HttpUrl = Type.String({ pattern: "^https?://[^/]" });

export const QdrantPlan = Type.Object({
  url: HttpUrl,
  timeoutSeconds: Type.Number({ exclusiveMinimum: 0 }),
  discovery: Type.Object({
    mode: StringEnum(["Cluster", "Static", "None"] as const),
    restPort: Type.Integer({ minimum: 1, maximum: 65535 }),
    scheme: StringEnum(["http", "https"] as const),
    urls: Type.Optional(Type.Array(Type.String({ pattern: "^https?://" }), { minItems: 1 })),
  }),
  tls: Type.Optional(Type.Object({ serverName: Type.Optional(Type.String()), insecureSkipVerify: Type.Optional(Type.Boolean()) })),
});
export type QdrantPlan = Static<typeof QdrantPlan>;
