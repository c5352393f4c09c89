/**
 * The one resolver of a QdrantBackupLocation reference, for every controller that reads or writes a
 * bucket (the location's own check, pruning, a failed backup's sweep, deletionPolicy Delete, restores
 * next): the object, the Secret keys it uses, a check that they all exist, a ready S3 client (endpoint,
 * credentials, the location's CA) with a presigner, and the Job environment that hands the same
 * credentials and CA to a Job.
 *
 * The manager's client and the Job's are built by the same builder (src/s3/client.ts) from the same
 * spec, so a location that works for one works for the other: with a private-CA endpoint the manager
 * used to ignore `caSecretRef`, which the Job mounted, and failed every call the Job's succeeded.
 *
 * Messages name the field: bare for the location's own conditions (`{ self: true }`), prefixed with the
 * location (`QdrantBackupLocation s3 spec.s3.credentials.secretRef.name: …`) for an object referring to it.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { QdrantBackupLocationSpec, QdrantBackupLocationStatus } from "../../api/v1alpha1/backup-location.ts";
import { JOB_ENV } from "../../jobs/protocol/env.ts";
import type { KubeObject } from "../../runtime/resource.ts";
import { ERROR_CODES, isOperatorError, OperatorError } from "../../errors.ts";
import { buildS3Client, checkEncryptedWrite, presignGetObject, s3Target, type StaticCredentials } from "../../s3/client.ts";
import { checkObjectLock } from "../../s3/object-lock.ts";
import { QDRANT_BACKUP_LOCATIONS } from "../resources.ts";
import type { OperatorContext } from "./context.ts";
import { fieldPrefix, findReferenced, type ObjectLookup, type ResolveOptions } from "./resolve-object.ts";
import { parseAgeKeys } from "../../backup/codec/age-keys.ts";
import type { AgeKeys } from "../../backup/codec/types.ts";
import { checkSecretKeys, jobEnvironmentFor, readSecretKey, type JobEnvironment, type SecretKeyUse } from "./secrets.ts";

export interface BackupLocationObject extends KubeObject {
  spec: QdrantBackupLocationSpec;
  status?: QdrantBackupLocationStatus;
}

/** Where a Job finds the S3 endpoint's CA: a Secret volume, its path in S3_CA_FILE. */
export const S3_CA_DIR = "/etc/qdrant-operator/s3-ca";

/** The keys a credentials Secret has when the spec names none (the AWS SDK's own variable names). */
export const DEFAULT_ACCESS_KEY_ID_KEY = "AWS_ACCESS_KEY_ID";
export const DEFAULT_SECRET_ACCESS_KEY_KEY = "AWS_SECRET_ACCESS_KEY";

export function findLocation(ctx: OperatorContext, namespace: string, name: string, cache?: ObjectLookup<BackupLocationObject>): Promise<BackupLocationObject | undefined> {
  return findReferenced(ctx, QDRANT_BACKUP_LOCATIONS, namespace, name, cache);
}

/** The message for a reference to a location that does not exist. */
export function locationNotFound(namespace: string, name: string, field = "spec.locationRef"): string {
  return `${field}: QdrantBackupLocation ${namespace}/${name} does not exist`;
}

/** The credentials' keys, each its own use (a Job gets each as an env variable). */
function credentialKeys(spec: QdrantBackupLocationSpec): { accessKeyId: SecretKeyUse; secretAccessKey: SecretKeyUse; sessionToken?: SecretKeyUse } | undefined {
  const ref = spec.s3.credentials.secretRef;
  if (!ref) return undefined;
  const field = "spec.s3.credentials.secretRef";
  return {
    accessKeyId: { ref: { name: ref.name, key: ref.accessKeyIdKey ?? DEFAULT_ACCESS_KEY_ID_KEY }, field: `${field}.accessKeyIdKey`, job: { env: JOB_ENV.awsAccessKeyId } },
    secretAccessKey: { ref: { name: ref.name, key: ref.secretAccessKeyKey ?? DEFAULT_SECRET_ACCESS_KEY_KEY }, field: `${field}.secretAccessKeyKey`, job: { env: JOB_ENV.awsSecretAccessKey } },
    ...(ref.sessionTokenKey ? { sessionToken: { ref: { name: ref.name, key: ref.sessionTokenKey }, field: `${field}.sessionTokenKey`, job: { env: JOB_ENV.awsSessionToken } } } : {}),
  };
}

function caKey(spec: QdrantBackupLocationSpec): SecretKeyUse | undefined {
  const ref = spec.s3.caSecretRef;
  return ref ? { ref, field: "spec.s3.caSecretRef", job: { file: { volume: "s3-ca", dir: S3_CA_DIR, pathEnv: JOB_ENV.s3CaFile } } } : undefined;
}

/**
 * The location's age key file (spec.encryption.keySecretRef), handed to a Job as ENCRYPTION_KEYS by
 * secretKeyRef. Not in locationSecretKeys: only a Job that encrypts or decrypts gets it (a restore of an
 * unencrypted backup from an encrypting location does not), so each caller adds it when it needs it.
 */
export function locationEncryptionKey(spec: QdrantBackupLocationSpec): SecretKeyUse | undefined {
  const ref = spec.encryption?.keySecretRef;
  return ref ? { ref: { name: ref.name, key: ref.key }, field: "spec.encryption.keySecretRef", job: { env: JOB_ENV.encryptionKeys } } : undefined;
}

/**
 * The location's key file, read (and registered with the redactor) for a check before a Job starts; SECRET_NOT_FOUND naming `spec.encryption.keySecretRef` (prefixed
 * with the location) when the Secret or its key is missing. Undefined when the location has no encryption.
 */
export async function readLocationEncryptionKey(ctx: OperatorContext, location: BackupLocationObject, opts: ResolveOptions = {}): Promise<string | undefined> {
  const use = locationEncryptionKey(location.spec);
  if (!use) return undefined;
  return readSecretKey(ctx.client, ctx.redactor, namespaceOf(location), use.ref, `${where(location, opts)}${use.field}`);
}

/**
 * The location's key file, read and parsed, for the check before a Job that encrypts or decrypts starts:
 * SECRET_NOT_FOUND as readLocationEncryptionKey, ENCRYPTION_KEY_INVALID naming the field and the line
 * when the text is not an age key file. Undefined when the location has no encryption.
 */
export async function readLocationAgeKeys(ctx: OperatorContext, location: BackupLocationObject, opts: ResolveOptions = {}): Promise<AgeKeys | undefined> {
  const text = await readLocationEncryptionKey(ctx, location, opts);
  const ref = location.spec.encryption?.keySecretRef;
  if (text === undefined || !ref) return undefined;
  return parseAgeKeys(text, `${where(location, opts)}spec.encryption.keySecretRef (Secret ${ref.name}, key ${ref.key})`);
}

/** Every Secret key the location uses: the static credentials (none for fromEnvironment) and the CA. */
export function locationSecretKeys(spec: QdrantBackupLocationSpec): SecretKeyUse[] {
  const creds = credentialKeys(spec);
  const ca = caKey(spec);
  return [...(creds ? [creds.accessKeyId, creds.secretAccessKey, ...(creds.sessionToken ? [creds.sessionToken] : [])] : []), ...(ca ? [ca] : [])];
}

const where = (location: BackupLocationObject, opts: ResolveOptions) => fieldPrefix("QdrantBackupLocation", location, opts);
const namespaceOf = (location: BackupLocationObject) => location.metadata?.namespace ?? "";

/** Reads every Secret key the location uses; throws SECRET_NOT_FOUND naming the first missing one. */
export function checkLocationSecrets(ctx: OperatorContext, location: BackupLocationObject, opts: ResolveOptions = {}): Promise<void> {
  return checkSecretKeys(ctx.client, ctx.redactor, namespaceOf(location), locationSecretKeys(location.spec), where(location, opts));
}

/**
 * Where the location's check writes its server-side-encryption probe: under the location's prefix, in
 * a directory whose name (`_`) no namespace can have, so the backup layout reads it as a foreign key and
 * never touches it; the location's uid keeps two locations on one prefix apart.
 */
export function encryptionProbeKey(location: BackupLocationObject): string {
  const prefix = (location.spec.s3.prefix ?? "").replace(/^\/+|\/+$/g, "");
  return `${prefix ? `${prefix}/` : ""}_location-checks/${location.metadata?.uid ?? location.metadata?.name ?? "location"}`;
}

const ENCRYPTION_REFUSED = ERROR_CODES.S3_ENCRYPTION_REFUSED.reason;
const LOCK_NOT_ENABLED = ERROR_CODES.OBJECT_LOCK_NOT_ENABLED.reason;
/** Said to an object that waits on the location (a backup writes "…; the backup starts once it exists"). */
const WAITS = "; a Job writes only to a location whose encryption the storage accepts";
const WAITS_FOR_LOCK = "; a Job writes only to a location whose bucket has the Object Lock it asks for";

/**
 * Throws OBJECT_LOCK_NOT_ENABLED when the bucket has no Object Lock configuration: the location asks for
 * locked objects and S3 would refuse every locked write ("Bucket is missing ObjectLockConfiguration").
 */
export async function checkLocationObjectLock(client: S3Client, bucket: string, lock: { mode: string }): Promise<void> {
  if ((await checkObjectLock(client, bucket)).enabled) return;
  throw new OperatorError(
    "OBJECT_LOCK_NOT_ENABLED",
    `spec.objectLock: bucket "${bucket}" has no Object Lock configuration, so its objects cannot be written with ${lock.mode} retention; use a bucket created with Object Lock enabled (MinIO, and S3 before 2023, enable it only at creation), or remove spec.objectLock`,
  );
}

/**
 * What a Job that writes to the location needs before it is created: every Secret key (as
 * checkLocationSecrets), a server-side encryption the storage accepts, and, with spec.objectLock, a bucket
 * with Object Lock. The location's own check (backup-location/controller.ts) probes both every few
 * minutes; its verdict at the current generation is used as it stands. Before that check has run on
 * this generation (a location and a backup applied together), the probes are made here, once, so the Job
 * never finds out on its first upload. Throws S3_ENCRYPTION_REFUSED or OBJECT_LOCK_NOT_ENABLED (not
 * retryable) naming the field; any other failure of a probe is left to the Job, whose own first call
 * reports it (the bucket, the credentials).
 */
export async function checkLocationUsable(ctx: OperatorContext, location: BackupLocationObject, opts: ResolveOptions = {}): Promise<void> {
  await checkLocationSecrets(ctx, location, opts);
  const writable = location.spec.accessMode !== "ReadOnly";
  const sse = writable ? location.spec.s3.serverSideEncryption : undefined;
  const lock = writable ? location.spec.objectLock : undefined;
  if (!sse && !lock) return;
  const prefix = where(location, opts);
  const ready = location.status?.conditions?.find((c) => c.type === "Ready");
  if (ready !== undefined && ready.observedGeneration === location.metadata?.generation) {
    if (ready.status === "False" && ready.reason === ENCRYPTION_REFUSED) throw new OperatorError("S3_ENCRYPTION_REFUSED", `${prefix}${ready.message}${WAITS}`);
    if (ready.status === "False" && ready.reason === LOCK_NOT_ENABLED) throw new OperatorError("OBJECT_LOCK_NOT_ENABLED", `${prefix}${ready.message}${WAITS_FOR_LOCK}`);
    if (ready.status === "True") return;
  }
  try {
    await withLocationS3(
      ctx,
      location,
      async ({ client, bucket }) => {
        if (sse) await checkEncryptedWrite(client, bucket, encryptionProbeKey(location), sse);
        if (lock) await checkLocationObjectLock(client, bucket, lock);
      },
      opts,
    );
  } catch (err) {
    if (isOperatorError(err, "S3_ENCRYPTION_REFUSED")) throw new OperatorError("S3_ENCRYPTION_REFUSED", `${prefix}${ctx.redactor.scrub(err.message)}${WAITS}`, { cause: err });
    if (isOperatorError(err, "OBJECT_LOCK_NOT_ENABLED")) throw new OperatorError("OBJECT_LOCK_NOT_ENABLED", `${prefix}${ctx.redactor.scrub(err.message)}${WAITS_FOR_LOCK}`, { cause: err });
    if (!isOperatorError(err)) throw err;
  }
}

/** A location's bucket with a client ready to use it. Destroy it when done (or use withLocationS3). */
export interface LocationS3 {
  client: S3Client;
  bucket: string;
  prefix?: string;
  /**
   * A presigned GET URL of `key` in the bucket, valid for `expiresInSeconds`: for a reader without the
   * credentials (Qdrant recovering a snapshot from a URL). It carries no CA: with a private-CA endpoint,
   * that reader must trust the endpoint's certificate on its own.
   */
  presignGet(key: string, expiresInSeconds: number): Promise<string>;
  destroy(): void;
}

/** The location's S3 client: its endpoint and addressing, its credentials (or the default chain) and its CA. */
export async function locationS3(ctx: Pick<OperatorContext, "client" | "redactor">, location: BackupLocationObject, opts: ResolveOptions = {}): Promise<LocationS3> {
  const namespace = namespaceOf(location);
  const prefix = where(location, opts);
  const read = (use: SecretKeyUse) => readSecretKey(ctx.client, ctx.redactor, namespace, use.ref, `${prefix}${use.field}`);
  const keys = credentialKeys(location.spec);
  let credentials: StaticCredentials | undefined;
  if (keys) {
    const accessKeyId = await read(keys.accessKeyId);
    const secretAccessKey = await read(keys.secretAccessKey);
    const sessionToken = keys.sessionToken ? await read(keys.sessionToken) : undefined;
    credentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  const ca = caKey(location.spec);
  const caPem = ca ? await read(ca) : undefined;
  const s3 = location.spec.s3;
  const client = buildS3Client({ ...s3Target(s3), ...(credentials ? { credentials } : {}), ...(caPem ? { caPem } : {}) });
  return {
    client,
    bucket: s3.bucket,
    ...(s3.prefix ? { prefix: s3.prefix } : {}),
    presignGet: (key, expiresInSeconds) => presignGetObject(client, s3.bucket, key, expiresInSeconds),
    destroy: () => client.destroy(),
  };
}

/** Runs `use` with the location's S3 client and destroys the client afterwards, whatever happens. */
export async function withLocationS3<T>(ctx: OperatorContext, location: BackupLocationObject, use: (s3: LocationS3) => Promise<T>, opts: ResolveOptions = {}): Promise<T> {
  const s3 = await locationS3(ctx, location, opts);
  try {
    return await use(s3);
  } finally {
    s3.destroy();
  }
}

/**
 * ENCRYPTION_KEYS by secretKeyRef, for a Job that encrypts or decrypts with the location's key file;
 * nothing when the location has none. Separate from locationJobEnvironment: a Job that reads only plain
 * objects never gets the key.
 */
export function locationKeyJobEnvironment(spec: QdrantBackupLocationSpec): JobEnvironment {
  const key = locationEncryptionKey(spec);
  return jobEnvironmentFor(key ? [key] : []);
}

/** The env (AWS_* from the credentials Secret) and CA volume a Job needs to use this location. */
export function locationJobEnvironment(spec: QdrantBackupLocationSpec): JobEnvironment {
  return jobEnvironmentFor(locationSecretKeys(spec));
}
