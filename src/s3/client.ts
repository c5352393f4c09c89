/**
 * The thin S3 adapter: the one builder of S3 clients (the manager's, for a QdrantBackupLocation, and the
 * Job's, from its environment), presigned GET URLs, and S3 errors turned into coded errors whose messages
 * say what to fix.
 *
 * One builder, because two drifted: the Job trusted the location's CA and the manager did not, so with a
 * private-CA endpoint backups succeeded while every manager-side call (the location's check, pruning, the
 * sweep, deletionPolicy Delete) failed on the certificate.
 */
import { Agent } from "node:https";
import { DeleteObjectCommand, GetBucketLocationCommand, GetObjectCommand, HeadBucketCommand, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { S3Location } from "../api/v1alpha1/backup-location.ts";
import type { Static } from "@sinclair/typebox";
import { OperatorError } from "../errors.ts";
import { effectiveSignal, reconcileSignal } from "../runtime/reconcile-signal.ts";

export type S3LocationSpec = Static<typeof S3Location>;

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where the bucket is, with the spec's defaults applied: what both the manager and the Job's plan use. */
export interface S3Target {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
}

/** The defaults of a location's S3 fields (region us-east-1, virtual-hosted addressing), in one place. */
export function s3Target(spec: Pick<S3LocationSpec, "region" | "endpoint" | "forcePathStyle">): S3Target {
  return { region: spec.region ?? "us-east-1", ...(spec.endpoint ? { endpoint: spec.endpoint } : {}), forcePathStyle: spec.forcePathStyle ?? false };
}

export interface S3ClientSettings extends S3Target {
  /** Static credentials; undefined means the SDK's default chain (IRSA, pod identity, AWS_* env). */
  credentials?: StaticCredentials;
  /** PEM bundle that signs a private endpoint's certificate (spec.s3.caSecretRef); replaces the system roots. */
  caPem?: string;
  /**
   * "WHEN_REQUIRED" skips the SDK's per-request CRC32 where S3 does not demand one: the backup Job
   * hashes every snapshot itself (SHA-256, checked against Qdrant's and kept in the manifest), so a
   * second checksum per part costs CPU on its hot path and protects nothing.
   */
  requestChecksumCalculation?: "WHEN_REQUIRED" | "WHEN_SUPPORTED";
}

/** How many sockets one client keeps per host: the SDK's own default, kept when the agent is ours. */
const MAX_SOCKETS = 50;

/**
 * The one way an S3 client is made. Destroy it after use: its keep-alive sockets hold the process open.
 * Every request obeys the reconcile's signal (src/runtime/reconcile-signal.ts) besides any `abortSignal`
 * its caller passes: a manager that lost its lease stops pruning and deleting mid-way, the way its
 * Kubernetes and Qdrant calls stop. Outside a reconcile (the Jobs) there is no ambient signal.
 */
export function buildS3Client(settings: S3ClientSettings): S3Client {
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    ...(settings.caPem ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: settings.caPem, keepAlive: true, maxSockets: MAX_SOCKETS }) }) } : {}),
    ...(settings.requestChecksumCalculation ? { requestChecksumCalculation: settings.requestChecksumCalculation } : {}),
    maxAttempts: 3,
  });
  const send = client.send.bind(client) as (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>;
  const withSignal = (command: unknown, options?: { abortSignal?: AbortSignal }) => {
    const signal = effectiveSignal(options?.abortSignal);
    return send(command, signal ? { ...options, abortSignal: signal } : options);
  };
  client.send = withSignal as S3Client["send"];
  return client;
}

/** Presigned URLs are valid at most a week (SigV4's limit). */
export const MAX_PRESIGN_SECONDS = 7 * 86_400;

interface CapturedRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
}

interface Presigner {
  presign(request: CapturedRequest, options: { expiresIn: number; signingDate?: Date }): Promise<CapturedRequest>;
}

/**
 * A presigned GET URL for one object, so that something without the credentials (Qdrant recovering a
 * snapshot from a URL) can read it until it expires. Built with the client itself: its middleware turns
 * the GetObject into the exact request it would send (endpoint, addressing style, key encoding), which
 * is captured before signing and then signed into the query string by the client's own SigV4 signer;
 * nothing is sent. Only `host` is signed, so any HTTP client can use the URL as is.
 */
export async function presignGetObject(client: S3Client, bucket: string, key: string, expiresInSeconds: number, signingDate?: Date): Promise<string> {
  if (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_PRESIGN_SECONDS) {
    throw new RangeError(`a presigned URL lives 1 s to ${MAX_PRESIGN_SECONDS} s, not ${expiresInSeconds}`);
  }
  const command = new GetObjectCommand({ Bucket: bucket, Key: key });
  let captured: CapturedRequest | undefined;
  const stack = client.middlewareStack.clone();
  stack.add(
    () => (args: { request: unknown }) => {
      captured = args.request as CapturedRequest;
      return Promise.resolve({ output: { $metadata: {} }, response: {} });
    },
    // The last middleware of the build step: the request is serialized and addressed; signing comes later.
    { step: "build", priority: "low", name: "qdrantOperatorCapturePresignRequest" },
  );
  await command.resolveMiddleware(stack, client.config, {})({ input: command.input });
  if (!captured) throw new Error("the S3 client built no request to presign");
  const { protocol, hostname, port, method, path, query } = captured;
  const signer = (await client.config.signer()) as unknown as Partial<Presigner>;
  if (typeof signer.presign !== "function") throw new Error("the S3 client's signer cannot presign");
  const request: CapturedRequest = {
    protocol,
    hostname,
    ...(port !== undefined ? { port } : {}),
    method,
    path,
    query: { ...query },
    headers: { host: port !== undefined ? `${hostname}:${port}` : hostname, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  };
  const signed = await signer.presign(request, { expiresIn: expiresInSeconds, ...(signingDate ? { signingDate } : {}) });
  const url = new URL(`${signed.protocol}//${signed.hostname}${signed.port !== undefined ? `:${signed.port}` : ""}`);
  // The serializer already percent-encoded the key; keep its path byte for byte.
  const search = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (v === null ? [encodeURIComponent(k)] : (Array.isArray(v) ? v : [v]).map((x) => `${encodeURIComponent(k)}=${encodeURIComponent(x)}`)))
    .join("&");
  return `${url.origin}${signed.path}${search ? `?${search}` : ""}`;
}

/** S3's codes for credentials it does not know or whose signature is wrong: the key or secret is wrong, not the policy. */
const BAD_CREDENTIALS = ["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"];

/**
 * Maps an SDK error of an operation on `bucket` to a coded error (or, for a call the reconcile aborted, to
 * the abort's reason).
 *
 * A refused HeadBucket is ambiguous: S3 answers 403, never 404, to credentials that may not list every
 * bucket (a user whose policy names only its own bucket), so a missing bucket and a forbidden one look
 * alike, and a HEAD's answer carries no code to tell a wrong secret apart. The message says so and names
 * both fields, instead of blaming the access key for a typo in the bucket's name.
 */
export function s3Error(err: unknown, bucket: string, what: string): Error {
  // An aborted call is the reconcile stopping (a lost lease), not S3 failing: it rejects with the signal's
  // reason, as an aborted Qdrant call does, so nothing records a storage problem that is not one.
  const ambient = reconcileSignal();
  if (ambient?.aborted) return ambient.reason instanceof Error ? ambient.reason : new Error(String(ambient.reason));
  if (err instanceof Error && err.name === "AbortError") return err;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (err.name === "NoSuchBucket" || (err.name === "NotFound" && what === "HeadBucket")) {
      return new OperatorError("S3_BUCKET_NOT_FOUND", `spec.s3.bucket: bucket "${bucket}" does not exist`, { cause: err });
    }
    const code = s3Code(err);
    const answer = code ?? `HTTP ${status ?? "?"}`;
    if (code !== undefined && BAD_CREDENTIALS.includes(code)) {
      return new OperatorError("S3_ACCESS_DENIED", `spec.s3.credentials: ${what} on bucket "${bucket}" was refused (${answer}); check the access key and secret`, { cause: err });
    }
    if (status === 403 || code === "AccessDenied" || code === "Forbidden") {
      if (what === "HeadBucket") {
        return new OperatorError(
          "S3_ACCESS_DENIED",
          `spec.s3.bucket, spec.s3.credentials: HeadBucket on bucket "${bucket}" was refused (${answer}): the bucket is missing, or not permitted for these credentials; check the bucket's name, the access key and secret, and the bucket's policy`,
          { cause: err },
        );
      }
      return new OperatorError("S3_ACCESS_DENIED", `spec.s3.credentials: ${what} on bucket "${bucket}" was refused (${answer}); check the access key, secret and the bucket's policy`, { cause: err });
    }
    return new OperatorError("S3_ERROR", `${what} on bucket "${bucket}": ${code ? `${code} ` : ""}(HTTP ${status ?? "?"})`, { cause: err });
  }
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code ?? (err as { code?: string } | undefined)?.code;
  return new OperatorError("S3_UNREACHABLE", `${what} on bucket "${bucket}": ${cause ?? (err instanceof Error ? err.message : String(err))}`, { cause: err });
}

/**
 * S3's error code, or undefined when S3 sent none: a HEAD request's answer has no body, and the SDK then
 * names the error "Unknown" with the message "UnknownError", which says nothing to a reader.
 */
export function s3Code(err: S3ServiceException): string | undefined {
  return err.name && err.name !== "Unknown" && err.name !== "UnknownError" ? err.name : undefined;
}

/** S3's own words, without the SDK's placeholders for an answer that had none. */
export function s3Words(err: S3ServiceException): string | undefined {
  const m = err.message;
  return m && m !== "UnknownError" && m !== "Unknown" ? m : undefined;
}

/**
 * Checks the bucket exists and the credentials may use it. A refused HEAD says nothing more than 403, so
 * one GET (GetBucketLocation, whose error answer has a body) learns S3's code: a wrong key or secret is
 * then told apart from a bucket that is missing or not permitted.
 */
export async function checkBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 403 && s3Code(err) === undefined) {
      try {
        await client.send(new GetBucketLocationCommand({ Bucket: bucket }));
      } catch (second) {
        if (second instanceof S3ServiceException && s3Code(second) !== undefined && BAD_CREDENTIALS.includes(s3Code(second)!)) throw s3Error(second, bucket, "HeadBucket");
      }
    }
    throw s3Error(err, bucket, "HeadBucket");
  }
}

/** A location's server-side encryption, as the spec says it. */
export interface ServerSideEncryption {
  type: "AES256" | "aws:kms";
  kmsKeyId?: string;
}

/** The field of a location's spec that a refused encryption is about. */
export function encryptionField(sse: ServerSideEncryption): string {
  return sse.type === "aws:kms" ? "spec.s3.serverSideEncryption.kmsKeyId" : "spec.s3.serverSideEncryption.type";
}

/**
 * Writes one small object at `key` with the encryption a backup's objects get, and deletes it: whether a
 * key id is needed, and which keys exist, depends on the storage (AWS S3 uses the account's `aws/s3` key
 * when aws:kms names none; MinIO refuses SSE unless a KMS is configured, and then needs a key it knows),
 * so only a write answers it. When that write is refused, the same write without encryption tells whose
 * fault it is: if it succeeds, the encryption was refused (S3_ENCRYPTION_REFUSED, naming the field);
 * otherwise the encrypted write's own error is thrown, as any write's would be (so a bucket policy that
 * refuses unencrypted writes shows the encrypted write's refusal). The unencrypted write happens only
 * after a refusal, holds no data (one line of text) and is deleted at once.
 *
 * Crash window: a process killed between the write and the delete leaves the probe object; the next
 * check writes and deletes the same key.
 */
export async function checkEncryptedWrite(client: S3Client, bucket: string, key: string, sse: ServerSideEncryption): Promise<void> {
  const put = (encrypted: boolean) =>
    client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: "qdrant-operator location check\n",
        ContentType: "text/plain",
        ...(encrypted ? { ServerSideEncryption: sse.type, ...(sse.kmsKeyId ? { SSEKMSKeyId: sse.kmsKeyId } : {}) } : {}),
      }),
    );
  const remove = async () => {
    try {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      throw s3Error(err, bucket, "DeleteObject");
    }
  };
  try {
    await put(true);
  } catch (refused) {
    if (!(refused instanceof S3ServiceException)) throw s3Error(refused, bucket, "PutObject");
    try {
      await put(false);
    } catch {
      throw s3Error(refused, bucket, "PutObject");
    }
    await remove();
    throw encryptionRefused(refused, sse);
  }
  await remove();
}

function encryptionRefused(err: S3ServiceException, sse: ServerSideEncryption): OperatorError {
  const answer = [s3Code(err) ?? `HTTP ${err.$metadata.httpStatusCode ?? "?"}`, s3Words(err)].filter(Boolean).join(": ");
  const what =
    sse.type === "AES256"
      ? "an AES256 (SSE-S3) write"
      : sse.kmsKeyId
        ? `an aws:kms write with key "${sse.kmsKeyId}"`
        : "an aws:kms write without a key id";
  const fix =
    sse.type === "AES256"
      ? "configure the storage's encryption, or remove spec.s3.serverSideEncryption"
      : "name a KMS key that the storage's KMS has and these credentials may use (AWS S3 uses the account's aws/s3 key when none is named; MinIO needs a configured KMS and a key it knows), or remove spec.s3.serverSideEncryption";
  return new OperatorError("S3_ENCRYPTION_REFUSED", `${encryptionField(sse)}: the storage refused ${what} (${answer}), while the same write without encryption succeeds; ${fix}`, { cause: err });
}
