/**
 * The secret scan every test that runs the manager gets: when the test ends, every secret value the test
 * put in its namespaces is looked for in everything the operator wrote where people (or anyone who may
 * read Pods and Events) can see it — the manager's log, every Job pod's container log, the namespaces'
 * Events, the status of every operator resource, and the Jobs and Pods themselves (their env, args and
 * termination messages) — and the test fails naming where a value appeared and which Secret key it is.
 *
 * What counts as a secret value: every value of every Secret applied through `apply`
 * (test/helpers/kube-objects.ts records them, so a Secret replaced or deleted during the test still
 * counts: the old S3 key of a rotation), and every value of the Secrets still in the namespaces when the
 * test ends, read back as the admin. Values shorter than {@link MIN_SCANNED_LENGTH} are not looked for
 * (they would be found by chance); the worlds' Secrets are long random values (qk-<24 hex>, MinIO's
 * generated keys, age keys). Each value is looked for as it is, JSON-escaped (how it sits in a JSON log
 * line) and base64-encoded (how it sits in a Secret-like field), and a multi-line value (an age key file,
 * a PEM key) also line by line, comment lines left out (an age key file's `# public key:` line is public).
 *
 * When it runs: `startManager` asks for the scan (so every manager-backed test has one, its namespaces
 * and manager logs added), and it reads the namespaces once, before the first of the test's namespaces
 * is deleted (useNamespace's teardown runs the hooks of {@link beforeNamespacesDeleted}), or at the
 * manager's teardown when none was. The manager keeps logging until its teardown stops it, so there its
 * log is read again and the test fails with everything found ({@link SecretScan.report}).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { GROUP, VERSION } from "../../src/api/group.ts";
import { KINDS } from "../../src/api/kinds.ts";
import { ApiError } from "../../src/runtime/errors.ts";
import { RestClient } from "../../src/runtime/rest-client.ts";
import { beforeNamespacesDeleted, kubeAccess, testEnv } from "./testenv.ts";

/** Shorter values are not looked for: "admin" or "abc123" would turn up by chance. */
export const MIN_SCANNED_LENGTH = 8;

interface SecretLike {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** One secret value and the forms it is looked for in. */
interface Needle {
  /** "<namespace>/<secret>/<key>", never the value. */
  label: string;
  forms: string[];
}

/** Values recorded by `apply`, by namespace: value → "<namespace>/<secret>/<key>". */
const applied = new Map<string, Map<string, string>>();

/** Records the values of every Secret among `objects` applied into `namespace` (called by kube-objects.ts `apply`). */
export function recordAppliedSecrets(namespace: string, objects: readonly object[]): void {
  for (const o of objects as SecretLike[]) {
    if ((o as { kind?: string }).kind !== "Secret") continue;
    const ns = o.metadata?.namespace ?? namespace;
    let byValue = applied.get(ns);
    if (!byValue) applied.set(ns, (byValue = new Map<string, string>()));
    // Keyed by value: a Secret applied again with another value (a rotation) keeps the old one too.
    for (const [key, value] of secretValues(o)) if (!byValue.has(value)) byValue.set(value, `${ns}/${o.metadata?.name ?? "?"}/${key}`);
  }
}

function secretValues(s: SecretLike): Array<[string, string]> {
  return [
    ...Object.entries(s.data ?? {}).map(([k, v]): [string, string] => [k, Buffer.from(v, "base64").toString("utf8")]),
    ...Object.entries(s.stringData ?? {}).map(([k, v]): [string, string] => [k, String(v)]),
  ];
}

/** The forms a value is looked for in; none when it is too short to look for. */
export function needleForms(value: string): string[] {
  if (value.length < MIN_SCANNED_LENGTH) return [];
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), Buffer.from(value).toString("base64")]);
  if (value.includes("\n")) {
    for (const line of value.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= 16 && !trimmed.startsWith("#")) forms.add(trimmed);
    }
  }
  return [...forms].filter((f) => f.length >= MIN_SCANNED_LENGTH);
}

/** How much the scans of this process read (for the diagnostic each scan prints). */
const scanned = { places: 0, bytes: 0 };

/** One place a value was found: where, and the text around it with the value masked by its label. */
export interface Finding {
  label: string;
  where: string;
  excerpt: string;
}

/** Every needle's forms found in `text`, reported as found at `where` (a line number added for multi-line text). */
export function findSecrets(text: string, where: string, needles: readonly Needle[]): Finding[] {
  scanned.places++;
  scanned.bytes += text.length;
  const out: Finding[] = [];
  for (const n of needles) {
    for (const form of n.forms) {
      const at = text.indexOf(form);
      if (at < 0) continue;
      const lineNo = text.slice(0, at).split("\n").length;
      const start = Math.max(0, at - 120);
      const excerpt = text.slice(start, at + form.length + 120).replaceAll(form, `«${n.label}»`);
      out.push({ label: n.label, where: text.includes("\n") ? `${where}, line ${lineNo}` : where, excerpt: excerpt.replace(/\s+/g, " ") });
      break;
    }
  }
  return out;
}

interface ManagerLog {
  logPath: string;
  log(): Promise<string>;
}

export interface SecretScan {
  /** Namespaces whose Secrets, Events, operator resources, Jobs and Pods are scanned. */
  watch(namespaces: readonly string[]): void;
  /** A manager process whose log is scanned. */
  manager(m: ManagerLog): void;
  /** A secret value the test made outside a Secret (a CA's private key, a token). */
  value(label: string, value: string): void;
  /**
   * Called by the manager's teardown once it has stopped: runs the scan if it has not run, reads the
   * manager's log again, and returns what to tell the engineer (undefined: no value found anywhere).
   * Returned, not thrown: node:test runs no later `after` hook of a test once one throws, and the caller
   * has its own failure (RBAC refusals) to join it with.
   */
  report(m: ManagerLog): Promise<string | undefined>;
}

const scans = new WeakMap<TestContext, SecretScan>();

/** The test's scan, made (and hooked to run before its namespaces go) on first use. */
export function secretScan(t: TestContext): SecretScan {
  const existing = scans.get(t);
  if (existing) return existing;
  const namespaces = new Set<string>();
  const managers = new Set<ManagerLog>();
  const extra = new Map<string, string>();
  let needles: Needle[] | undefined;
  const seen = new Set<string>();
  let ran: Promise<void> | undefined;
  const pending: Finding[] = [];
  let scanError: Error | undefined;

  /** The findings not reported yet, as a message. */
  const unreported = (findings: Finding[]): string | undefined => {
    const fresh = findings.filter((f) => {
      const id = `${f.label}\u0000${f.where}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    if (fresh.length === 0) return undefined;
    return (
      `secret values the test created appeared where the operator writes for people to read (the redactor, src/runtime/redact.ts, missed them):\n` +
      fresh
        .slice(0, 20)
        .map((f) => `  - ${f.label} in ${f.where}: …${f.excerpt}…`)
        .join("\n") +
      (fresh.length > 20 ? `\n  (and ${fresh.length - 20} more)` : "")
    );
  };

  // Never throws: it runs inside useNamespace's teardown, which must go on to delete the namespace.
  const run = () =>
    (ran ??= (async () => {
      if (namespaces.size === 0 && managers.size === 0) return;
      try {
        needles = await collectNeedles([...namespaces], extra);
        if (needles.length === 0) return;
        for (const m of managers) pending.push(...findSecrets(await m.log().catch(() => ""), `the manager's log ${m.logPath}`, needles));
        const before = { ...scanned };
        for (const ns of namespaces) pending.push(...(await scanNamespace(ns, needles)));
        t.diagnostic(`secret scan: ${needles.length} secret values looked for in ${scanned.places - before.places} statuses, Events, Jobs, Pods and container logs (${Math.round((scanned.bytes - before.bytes) / 1024)} KiB) and the manager's log`);
      } catch (err) {
        scanError = err instanceof Error ? err : new Error(String(err));
      }
    })());

  const scan: SecretScan = {
    watch(list) {
      for (const ns of list) namespaces.add(ns);
    },
    manager(m) {
      managers.add(m);
    },
    value(label, value) {
      extra.set(label, value);
    },
    async report(m) {
      await run();
      if (scanError) return `the secret scan could not read what it scans: ${scanError.message}`;
      if (needles && needles.length > 0) pending.push(...findSecrets(await m.log().catch(() => ""), `the manager's log ${m.logPath}`, needles));
      const message = unreported(pending.splice(0));
      return message;
    },
  };
  scans.set(t, scan);
  beforeNamespacesDeleted(t, run);
  return scan;
}

const admin = () => new RestClient(kubeAccess());

async function list<T>(path: string): Promise<T[]> {
  try {
    return (await admin().request<{ items?: T[] }>("GET", path)).items ?? [];
  } catch (err) {
    // A namespace already gone, or a kind whose CRD is not installed in this run.
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return [];
    throw err;
  }
}

async function collectNeedles(namespaces: string[], extra: ReadonlyMap<string, string>): Promise<Needle[]> {
  // value → label, so a value in two Secrets is looked for once.
  const values = new Map<string, string>();
  for (const ns of namespaces) {
    for (const [value, label] of applied.get(ns) ?? []) values.set(value, label);
    for (const s of await list<SecretLike>(`/api/v1/namespaces/${ns}/secrets`)) {
      if (s.type === "kubernetes.io/service-account-token") continue;
      for (const [key, value] of secretValues(s)) if (!values.has(value)) values.set(value, `${ns}/${s.metadata?.name ?? "?"}/${key}`);
    }
  }
  for (const [label, value] of extra) if (!values.has(value)) values.set(value, label);
  return [...values].map(([value, label]) => ({ label, forms: needleForms(value) })).filter((n) => n.forms.length > 0);
}

async function scanNamespace(ns: string, needles: readonly Needle[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const k of KINDS) {
    for (const o of await list<{ metadata?: { name?: string }; status?: unknown }>(`/apis/${GROUP}/${VERSION}/namespaces/${ns}/${k.plural}`)) {
      if (o.status !== undefined) out.push(...findSecrets(JSON.stringify(o.status), `${k.singular}/${o.metadata?.name ?? "?"} status (namespace ${ns})`, needles));
    }
  }
  for (const e of await list<{ metadata?: { name?: string }; reason?: string }>(`/apis/events.k8s.io/v1/namespaces/${ns}/events`)) {
    out.push(...findSecrets(JSON.stringify(e), `Event ${e.metadata?.name ?? "?"} (${e.reason ?? ""}, namespace ${ns})`, needles));
  }
  for (const j of await list<{ metadata?: { name?: string } }>(`/apis/batch/v1/namespaces/${ns}/jobs`)) out.push(...findSecrets(JSON.stringify(j), `Job ${j.metadata?.name ?? "?"} (namespace ${ns})`, needles));
  const pods = await list<{ metadata?: { name?: string }; spec?: { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }> } }>(`/api/v1/namespaces/${ns}/pods`);
  for (const p of pods) out.push(...findSecrets(JSON.stringify(p), `Pod ${p.metadata?.name ?? "?"} (namespace ${ns})`, needles));
  for (const [where, text] of await containerLogs(ns, pods)) out.push(...findSecrets(text, where, needles));
  return out;
}

/**
 * Every container log of the namespace's pods. Locally, the node agent's log files (they stay after a
 * pod is deleted: a backup's Job is removed once it finished), else what `kubectl logs` serves for the
 * pods still there.
 */
async function containerLogs(ns: string, pods: ReadonlyArray<{ metadata?: { name?: string }; spec?: { containers?: Array<{ name: string }>; initContainers?: Array<{ name: string }> } }>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  const runDir = testEnv().local?.runDir;
  if (runDir !== undefined) {
    const root = join(runDir, "node-agent", "logs");
    for (const dir of (await readdir(root).catch(() => [] as string[])).filter((d) => d.startsWith(`${ns}_`))) {
      for (const file of await readdir(join(root, dir), { recursive: true })) {
        if (!file.endsWith(".log")) continue;
        const path = join(root, dir, file);
        out.push([`the container log ${path}`, await readFile(path, "utf8").catch(() => "")]);
      }
    }
    return out;
  }
  for (const p of pods) {
    for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
      const name = p.metadata?.name ?? "?";
      const body = await admin()
        .request<unknown>("GET", `/api/v1/namespaces/${ns}/pods/${name}/log`, { query: { container: c.name } })
        .catch(() => "");
      out.push([`the log of pod ${name} container ${c.name} (namespace ${ns})`, typeof body === "string" ? body : JSON.stringify(body)]);
    }
  }
  return out;
}
