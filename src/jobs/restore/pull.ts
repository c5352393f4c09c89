/**
 * The Pull method on one peer: the Job presigns a GET URL for the file's object and asks the peer to
 * recover from it (`PUT /collections/{c}/snapshots/recover?wait=true` with the manifest's sha256 as the
 * checksum, which Qdrant checks before it changes anything). The bytes flow S3 → Qdrant; none go
 * through the Job. The URL is a bearer credential until it expires: its query string is registered
 * with the redactor before it leaves the process, and it is never logged.
 */
import { presignGetObject } from "../../s3/client.ts";
import type { RestorePeerFile } from "./contract.ts";
import type { RestoreContext } from "./run-context.ts";

/** Recovers `file` on the peer at `peerUrl`; resolves to the bytes recovered (the snapshot's size). */
export async function pullOnPeer(ctx: RestoreContext, file: RestorePeerFile, peerUrl: string): Promise<number> {
  const { plan } = ctx;
  const location = await presignGetObject(ctx.s3, plan.s3.bucket, file.key, plan.presignSeconds);
  registerPresigned(ctx, location);
  await ctx.qdrant.at(peerUrl).recoverSnapshot(plan.targetCollection, { location, checksum: file.sha256, priority: plan.priority }, { signal: ctx.signal });
  return file.size;
}

/** The URL's query string (its signature and credential scope), and the signature alone, as secrets. */
export function registerPresigned(ctx: Pick<RestoreContext, "redactor">, url: string): void {
  const query = new URL(url).searchParams;
  ctx.redactor.register(url.slice(url.indexOf("?") + 1));
  const signature = query.get("X-Amz-Signature");
  if (signature) ctx.redactor.register(signature);
  const token = query.get("X-Amz-Security-Token");
  if (token) {
    // Qdrant's errors may echo the URL as sent (the token percent-encoded) or decoded.
    ctx.redactor.register(token);
    ctx.redactor.register(encodeURIComponent(token));
  }
}
