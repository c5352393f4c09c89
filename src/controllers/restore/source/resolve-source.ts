/**
 * A QdrantRestore's source resolved to one checked backup: the module the restore controller calls
 * before it changes anything. It answers which location, which backup (selectBackup, the one selection
 * rule, which retention's protection applies too), its manifest, the collection and files to restore,
 * and that every file is in the bucket with its size — or a failure whose reason is from the registry
 * (src/errors.ts) and whose message names the field or object to fix. Nothing is written anywhere.
 *
 * Steps:
 * 1. The location: a backupRef's QdrantBackup's spec.locationRef, or the source's locationRef, in the
 *    restore's namespace; its Secrets are read to build its S3 client (locationS3 reads every key the
 *    location uses, so a missing one is SecretNotFound naming the field). No encryption probe: a
 *    restore only reads.
 * 2. Candidates: the bucket's, from one listing of the narrowest prefix that holds them (see
 *    bucket-candidates.ts), with their manifests read through the cache; and the cluster's, from the
 *    QdrantBackups informer (candidatesFromBackups). selectBackup chooses.
 * 3. The chosen manifest, parsed with its key; the collection (Collection mode: the manifest's;
 *    FullStorage: spec.sourceCollection) and its files (restore-files.ts).
 * 4. An encrypted backup's key: the location's spec.encryption.keySecretRef, its Secret read and its
 *    key file parsed (encryption-key.ts); not for a restore that asks for Pull, which decide.ts refuses
 *    for such a backup (MethodNotPossible) whatever the key.
 * 5. Every file's object, by HEAD (check-objects.ts).
 *
 * Cost per resolve: at most one LIST (one ListObjectsV2 listing, page by page), GETs only of manifests
 * not read before (the ManifestCache keeps every parsed manifest: they never change), and one HEAD per
 * file of the chosen backup. Every S3 call carries `signal` and the reconcile's ambient signal (the S3
 * client builder adds it), so a manager that lost its lease stops mid-resolve.
 *
 * Once resolves only until its Job exists. The controller records the backup in status.backupId (before
 * or with the Job's creation), and every later reconcile of that restore — adopting the Job after a
 * crash, a retry's next attempt — resolves `{ backupId }` (pinned): the same backup, even when a newer
 * one has completed since, which `latest` would now pick. A pinned resolve is a location + backupId
 * selection at the source's location (narrowed to the restore's namespace for latest and backupRef, and
 * to the QdrantBackup's connection for backupRef), so for location and latest sources it needs no
 * QdrantBackup and finds the backup in the bucket alone (a backupRef's location is its QdrantBackup's,
 * so that one must still exist); retention keeps it (status.backupId protects it:
 * src/controllers/backup-schedule/protection.ts).
 */
import { backupIdOf } from "../../../backup/layout/backup-id.ts";
import type { Manifest } from "../../../backup/layout/manifest.ts";
import { describeCandidate, type BackupCandidate } from "../../../backup/select/candidate.ts";
import { candidatesFromBackups, candidatesOf, type ClusterBackup } from "../../../backup/select/from-backups.ts";
import { selectBackup, type RestoreSource, type Selection } from "../../../backup/select/select-backup.ts";
import type { RestorePeerFile } from "../../../jobs/restore/contract.ts";
import type { Informer } from "../../../runtime/informer.ts";
import { restoreSourceOf } from "../../backup-schedule/protection.ts";
import type { OperatorContext } from "../../shared/context.ts";
import { findLocation, locationNotFound, withLocationS3, type BackupLocationObject } from "../../shared/resolve-location.ts";
import type { RestoreObject } from "../types.ts";
import { absentFromBucket, backupDirectoryQuery, backupIdQuery, bucketCandidates, latestQuery, layoutManifestKey, type BucketQuery } from "./bucket-candidates.ts";
import { checkObjects } from "./check-objects.ts";
import { checkEncryptionKey } from "./encryption-key.ts";
import { failure, failureOf, failureOfReason, type SourceFailure } from "./failure.ts";
import { ManifestCache, type ManifestPlace } from "./manifest-cache.ts";
import { restoreFiles } from "./restore-files.ts";

export type ResolvedSource =
  | {
      ok: true;
      location: BackupLocationObject;
      candidate: BackupCandidate;
      manifestKey: string;
      manifest: Manifest;
      sourceCollection: string;
      files: RestorePeerFile[];
      expectedPoints?: number;
      mode: "Collection" | "FullStorage";
    }
  | SourceFailure;

export interface ResolveOptions {
  /** The backup already chosen (status.backupId): resolve exactly it, not what the source would pick now. */
  backupId?: string;
}

export interface SourceResolver {
  resolve(restore: RestoreObject, signal?: AbortSignal, options?: ResolveOptions): Promise<ResolvedSource>;
}

export interface SourceInformers {
  backups: Informer<ClusterBackup>;
  locations: Informer<BackupLocationObject>;
}

/** `manifests`: the cache to use (tests share one to count reads); one per resolver otherwise. */
export function sourceResolver(ctx: OperatorContext, inf: SourceInformers, opts: { manifests?: ManifestCache } = {}): SourceResolver {
  const manifests = opts.manifests ?? new ManifestCache();
  return {
    resolve: async (restore, signal, options = {}) => {
      try {
        return await resolveSource(ctx, inf, manifests, restore, signal, options);
      } catch (err) {
        return failureOf(err, ctx.redactor);
      }
    },
  };
}

/** What a source form says before the bucket is looked at. */
interface Plan {
  location: string;
  /** The field a missing location is blamed on. */
  locationField: string;
  select: RestoreSource;
  /** The listing, given the location's prefix; undefined: the cluster's candidates decide alone. */
  query(prefix: string | undefined): BucketQuery | undefined;
  cluster: BackupCandidate[];
  /** spec.sourceCollection where it picks a collection of the backup (not for latest). */
  wanted?: string;
}

async function resolveSource(ctx: OperatorContext, inf: SourceInformers, manifests: ManifestCache, restore: RestoreObject, signal: AbortSignal | undefined, options: ResolveOptions): Promise<ResolvedSource> {
  const namespace = restore.metadata?.namespace ?? "";
  const plan = planOf(restore, inf, options.backupId);
  if (!plan.ok) return plan;
  const location = await findLocation(ctx, namespace, plan.location, inf.locations.cache);
  if (!location) return failure("REFERENCE_NOT_FOUND", locationNotFound(namespace, plan.location, plan.locationField));

  return withLocationS3(ctx, location, async (s3) => {
    const place: ManifestPlace & { prefix?: string } = { client: s3.client, bucket: s3.bucket, ...(location.spec.s3.endpoint ? { endpoint: location.spec.s3.endpoint } : {}), ...(s3.prefix ? { prefix: s3.prefix } : {}) };
    const query = plan.query(s3.prefix);
    const bucket: BackupCandidate[] = [];
    if (query) {
      const listed = await bucketCandidates(place, plan.location, query, manifests, signal);
      bucket.push(...listed.candidates, ...absentFromBucket(plan.cluster, listed.manifestKeys, query.listPrefix, s3.prefix));
    }
    const selection = selectBackup(plan.select, [...bucket, ...plan.cluster]);
    if (!selection.ok) return selectionFailure(selection);
    const chosen = selection.backup;

    const key = chosenManifestKey(chosen, s3.prefix);
    if (key === undefined) return failure("MANIFEST_UNREADABLE", `${describeCandidate(chosen)}: where its manifest is cannot be told (its collection's name is not known)`);
    const read = await manifests.read(place, key, signal);
    if (!read.ok) return failure("MANIFEST_UNREADABLE", `${describeCandidate(chosen)}: ${read.error}`);
    const manifest = read.manifest;
    if (manifest.backupId !== chosen.backupId || manifest.mode !== chosen.mode) {
      return failure("MANIFEST_UNREADABLE", `manifest ${key} describes backup ${manifest.backupId} (${manifest.mode}), not ${describeCandidate(chosen)}`);
    }
    const files = restoreFiles(manifest, key, plan.wanted);
    if (!files.ok) return files;
    // An explicit Pull of an encrypted backup is refused by method.ts (methodFor) whatever the key:
    // checking the key first would have it wait for a key it could not use.
    const keyProblem = restore.spec?.method === "Pull" ? undefined : await checkEncryptionKey(ctx, location, files.files, manifest.backupId);
    if (keyProblem) return keyProblem;
    const missing = await checkObjects(s3.client, s3.bucket, key, files.files, signal);
    if (missing) return missing;
    return { ...files, location, candidate: chosen, manifestKey: key, manifest };
  });
}

function planOf(restore: RestoreObject, inf: SourceInformers, pinned: string | undefined): (Plan & { ok: true }) | SourceFailure {
  const namespace = restore.metadata?.namespace ?? "";
  const spec = restore.spec;
  const source = spec?.source ?? {};
  const sourceCollection = spec?.sourceCollection;
  const inNamespace = () => candidatesFromBackups(inf.backups.cache.list(namespace));
  const withId = (id: string) => candidatesFromBackups(inf.backups.cache.list()).filter((c) => c.backupId === id);

  let location: string;
  let locationField: string;
  // The QdrantBackup of a backupRef: its location, connection and id.
  let backup: { name: string; connection: string; backupId: string; fullStorage: boolean; collections: string[] } | undefined;
  if (source.backupRef) {
    const name = source.backupRef.name ?? "";
    const b = inf.backups.cache.get({ namespace, name });
    if (!b) return failure("BACKUP_NOT_FOUND", `spec.source.backupRef: QdrantBackup ${namespace}/${name} does not exist`);
    const own = candidatesOf(b);
    if (own.length === 0) {
      const why = b.status?.phase === "Succeeded" ? "lists no collections it backed up" : "has not finished (it does not say yet which collections it holds)";
      return failure("BACKUP_NOT_USABLE", `spec.source.backupRef: QdrantBackup ${namespace}/${name} ${why}`);
    }
    location = b.spec?.locationRef?.name ?? "";
    locationField = `spec.source.backupRef: QdrantBackup ${name} spec.locationRef`;
    backup = {
      name,
      connection: b.spec?.connectionRef?.name ?? "",
      backupId: backupIdOf(b.metadata),
      fullStorage: b.spec?.mode === "FullStorage",
      collections: own.flatMap((c) => (c.collection !== undefined ? [c.collection] : [])),
    };
  } else if (source.location) {
    location = source.location.locationRef?.name ?? "";
    locationField = "spec.source.location.locationRef";
  } else if (source.latest) {
    location = source.latest.locationRef?.name ?? "";
    locationField = "spec.source.latest.locationRef";
  } else {
    return failure("INVALID_SPEC", "spec.source: set exactly one of backupRef, location or latest");
  }
  const base = { ok: true as const, location, locationField };

  if (pinned !== undefined) {
    // The recorded backup, found as location + backupId finds it, narrowed to where the source looks.
    const loc = {
      locationRef: { name: location },
      backupId: pinned,
      ...(source.location?.sourceNamespace !== undefined ? { sourceNamespace: source.location.sourceNamespace } : source.location ? {} : { sourceNamespace: namespace }),
      ...(source.location?.sourceConnection !== undefined ? { sourceConnection: source.location.sourceConnection } : backup ? { sourceConnection: backup.connection } : {}),
    };
    const wanted = source.latest ? source.latest.collection : sourceCollection;
    return {
      ...base,
      select: { namespace, location: loc, ...(wanted !== undefined ? { sourceCollection: wanted } : {}) },
      query: (prefix) => backupIdQuery(prefix, loc),
      cluster: withId(pinned),
      ...(wanted !== undefined ? { wanted } : {}),
    };
  }

  const select = restoreSourceOf(restore);
  if (backup) {
    const b = backup;
    // The one directory that holds the collection to restore; none when the cluster names several and
    // the spec does not say which (selection then fails SourceCollectionRequired without a listing).
    const collection = sourceCollection ?? (b.collections.length === 1 ? b.collections[0] : undefined);
    const ref = { namespace, connection: b.connection, backupId: b.backupId };
    return {
      ...base,
      select,
      query: (prefix) => (b.fullStorage ? backupDirectoryQuery(prefix, { ...ref, fullStorage: true }) : collection !== undefined ? backupDirectoryQuery(prefix, { ...ref, collection }) : undefined),
      cluster: inNamespace(),
      ...(sourceCollection !== undefined ? { wanted: sourceCollection } : {}),
    };
  }
  if (source.location) {
    const loc = { ...source.location, backupId: source.location.backupId ?? "" };
    return { ...base, select, query: (prefix) => backupIdQuery(prefix, loc), cluster: withId(loc.backupId), ...(sourceCollection !== undefined ? { wanted: sourceCollection } : {}) };
  }
  const collection = source.latest?.collection ?? "";
  return { ...base, select, query: (prefix) => latestQuery(prefix, namespace, collection), cluster: inNamespace() };
}

/** Where the chosen backup's manifest is: the key the listing found it at, or where the layout puts it. */
function chosenManifestKey(c: BackupCandidate, prefix: string | undefined): string | undefined {
  return c.origin === "Bucket" && c.manifestKey !== undefined ? c.manifestKey : layoutManifestKey(c, prefix);
}

/**
 * selectBackup's answer as a failure. When every backup the source matched was refused for its
 * manifest, the reason is ManifestUnreadable (with each manifest's key and what is wrong), not the
 * general BackupNotUsable.
 */
function selectionFailure(s: Extract<Selection, { ok: false }>): SourceFailure {
  const unreadable = s.rejected.length > 0 && s.rejected.every((r) => r.reason === "ManifestUnreadable");
  if (!unreadable) return failureOfReason(s.reason, s.message);
  const details = s.rejected.map((r) => r.message);
  const message = details.every((d) => s.message.includes(d)) ? s.message : `${s.message}: ${details.join("; ")}`;
  return failure("MANIFEST_UNREADABLE", message);
}
