/**
 * API-key authentication as Qdrant's middleware does it: a read-write key, an optional read-only key, sent
 * as `api-key` or `Authorization: Bearer`. Missing/unknown keys get a plain-text 401; a read-only key on a
 * write gets the JSON 403 that Qdrant's access check produces. JWT is not emulated.
 */
import type { IncomingMessage } from "node:http";
import type { AccessLevel } from "./router.ts";

export interface AuthConfig {
  apiKey?: string;
  readOnlyApiKey?: string;
}

export type AuthOutcome =
  | { ok: true }
  | { ok: false; status: 401; text: string }
  | { ok: false; status: 403; json: string };

function presentedKey(req: IncomingMessage): string | undefined {
  const header = req.headers["api-key"];
  if (typeof header === "string") return header;
  const auth = req.headers.authorization;
  if (typeof auth === "string" && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

export function authorize(req: IncomingMessage, access: AccessLevel, cfg: AuthConfig): AuthOutcome {
  if (cfg.apiKey === undefined && cfg.readOnlyApiKey === undefined) return { ok: true };
  if (access === "open") return { ok: true };
  const key = presentedKey(req);
  if (key === undefined) return { ok: false, status: 401, text: "Must provide an API key or an Authorization bearer token" };
  if (cfg.apiKey !== undefined && key === cfg.apiKey) return { ok: true };
  if (cfg.readOnlyApiKey !== undefined && key === cfg.readOnlyApiKey) {
    if (access === "write") return { ok: false, status: 403, json: "Forbidden: Global manage access is required" };
    return { ok: true };
  }
  return { ok: false, status: 401, text: "Invalid API key or JWT" };
}
