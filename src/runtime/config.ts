/**
 * The manager's configuration from flags and environment (a flag wins over its variable), validated in
 * one pass at start-up: every bad setting is reported at once, each naming the flag, the variable and what
 * it accepts, and the process exits before touching the cluster. Product defaults (the lease name) come
 * from the caller, and so do the product's own settings: a {@link ConfigExtension} is parsed and
 * validated in the same pass and listed in the same help, so this module stays generic.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./logger.ts";

export interface RuntimeConfig {
  /** "all", or the namespaces to watch. */
  namespaces: "all" | string[];
  /** Where /healthz, /readyz and /metrics listen. */
  http: { host: string; port: number };
  logLevel: LogLevel;
  logFormat: LogFormat;
  leaderElection: { enabled: false } | { enabled: true; namespace: string; name: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  /** This replica's identity in the lease and in Events (reportingInstance). */
  identity: string;
  /** Concurrent reconciles per controller. */
  workers: number;
  /** How long SIGTERM waits for in-flight reconciles before aborting them. */
  shutdownTimeoutMs: number;
  /** Explicit kubeconfig path; otherwise KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  kubeconfig: string | undefined;
}

export interface ConfigDefaults {
  leaseName: string;
  /** The pod's namespace when running in a cluster; default reads the service account's namespace file. */
  inClusterNamespace?: () => string | undefined;
}

/** One setting: its flag (without "--"), its environment variable, and the help line. */
export interface Setting {
  flag: string;
  env: string;
  help: string;
}

/**
 * Settings of the program built on the runtime (the operator's own), parsed with the runtime's in one
 * pass: the same flag-over-variable rule, problems reported together with the runtime's.
 */
export interface ConfigExtension<E> {
  settings: readonly Setting[];
  /** `raw(s)` gives the flag's value, else the variable's; `bad(s, value, want)` records a problem. */
  parse(raw: (s: Setting) => string | undefined, bad: (s: Setting, value: string, want: string) => void): E;
}

const SETTINGS = {
  namespaces: { flag: "namespaces", env: "WATCH_NAMESPACES", help: 'comma-separated namespaces to watch, or "" / "*" for all (default all)' },
  httpAddress: { flag: "http-address", env: "HTTP_ADDRESS", help: "host:port for /healthz, /readyz and /metrics (default :8080)" },
  logLevel: { flag: "log-level", env: "LOG_LEVEL", help: `${LOG_LEVELS.join("|")} (default info)` },
  logFormat: { flag: "log-format", env: "LOG_FORMAT", help: `${LOG_FORMATS.join("|")} (default json)` },
  leaderElect: { flag: "leader-elect", env: "LEADER_ELECT", help: "true|false: elect one active replica through a Lease (default true)" },
  leaseNamespace: { flag: "leader-election-namespace", env: "LEADER_ELECTION_NAMESPACE", help: "namespace of the Lease (default: the pod's namespace)" },
  leaseName: { flag: "leader-election-id", env: "LEADER_ELECTION_ID", help: "name of the Lease" },
  leaseDuration: { flag: "lease-duration", env: "LEASE_DURATION", help: "how long a lease is valid without renewal, e.g. 15s (default 15s)" },
  renewDeadline: { flag: "renew-deadline", env: "RENEW_DEADLINE", help: "how long the leader retries renewing before giving up (default 10s)" },
  retryPeriod: { flag: "retry-period", env: "RETRY_PERIOD", help: "time between lease attempts (default 2s)" },
  identity: { flag: "identity", env: "POD_NAME", help: "this replica's name (default: hostname); a random suffix is added" },
  workers: { flag: "workers", env: "MAX_CONCURRENT_RECONCILES", help: "concurrent reconciles per controller, 1-64 (default 2)" },
  shutdownTimeout: { flag: "shutdown-timeout", env: "SHUTDOWN_TIMEOUT", help: "how long SIGTERM waits for in-flight reconciles (default 30s)" },
  kubeconfig: { flag: "kubeconfig", env: "KUBECONFIG", help: "path to a kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)" },
} satisfies Record<string, Setting>;

/** The flags and variables, one per line, for --help: the runtime's, then `extra` (an extension's). */
export function configHelp(extra: readonly Setting[] = []): string {
  return [...Object.values(SETTINGS), ...extra]
    .map((s) => `  --${s.flag.padEnd(27)} ${s.env.padEnd(27)} ${s.help}`)
    .join("\n");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** "500ms", "15s", "2m", "1h" → milliseconds; undefined if malformed. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.round(Number(m[1]) * unit);
}

function defaultInClusterNamespace(): string | undefined {
  try {
    return readFileSync("/var/run/secrets/kubernetes.io/serviceaccount/namespace", "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Parses and validates the runtime's settings; throws {@link ConfigError} naming every problem. */
export function parseConfig(argv: readonly string[], env: NodeJS.ProcessEnv, defaults: ConfigDefaults): RuntimeConfig {
  return parseConfigWith(argv, env, defaults, { settings: [], parse: () => undefined }).runtime;
}

/**
 * Parses and validates the runtime's settings and an extension's in one pass; throws
 * {@link ConfigError} naming every problem of both.
 */
export function parseConfigWith<E>(argv: readonly string[], env: NodeJS.ProcessEnv, defaults: ConfigDefaults, extension: ConfigExtension<E>): { runtime: RuntimeConfig; extension: E } {
  const all = [...Object.values(SETTINGS), ...extension.settings];
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: Object.fromEntries(all.map((s) => [s.flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError([`${(err as Error).message} (known flags: ${all.map((s) => "--" + s.flag).join(", ")})`]);
  }
  const problems: string[] = [];
  const raw = (s: Setting): string | undefined => {
    const v = values[s.flag];
    return typeof v === "string" ? v : env[s.env];
  };
  const bad = (s: Setting, value: string, want: string) => problems.push(`--${s.flag} (${s.env}) = ${JSON.stringify(value)}: ${want}`);
  const oneOf = <T extends string>(s: Setting, allowed: readonly T[], dflt: T): T => {
    const v = raw(s);
    if (v === undefined || v === "") return dflt;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    bad(s, v, `must be one of ${allowed.join(", ")}`);
    return dflt;
  };
  const duration = (s: Setting, dflt: number): number => {
    const v = raw(s);
    if (v === undefined || v === "") return dflt;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      bad(s, v, 'must be a positive duration such as "500ms", "15s" or "2m"');
      return dflt;
    }
    return ms;
  };

  let namespaces: "all" | string[] = "all";
  const nsRaw = raw(SETTINGS.namespaces)?.trim();
  if (nsRaw && nsRaw !== "*") {
    const list = [...new Set(nsRaw.split(",").map((n) => n.trim()).filter(Boolean))];
    const invalid = list.filter((n) => n.length > 63 || !DNS_LABEL.test(n));
    if (invalid.length > 0) bad(SETTINGS.namespaces, nsRaw, `${invalid.map((n) => JSON.stringify(n)).join(", ")} ${invalid.length > 1 ? "are not namespace names" : "is not a namespace name"} (lower-case letters, digits and "-", at most 63)`);
    namespaces = list.length > 0 ? list : "all";
  }

  let http = { host: "0.0.0.0", port: 8080 };
  const addr = raw(SETTINGS.httpAddress);
  if (addr !== undefined && addr !== "") {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/.exec(addr);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) bad(SETTINGS.httpAddress, addr, 'must be "host:port" or ":port" with a port from 0 to 65535');
    else http = { host: m[1] === "" ? "0.0.0.0" : m[1]!.replace(/^\[|\]$/g, ""), port };
  }

  const logLevel = oneOf(SETTINGS.logLevel, LOG_LEVELS, "info");
  const logFormat = oneOf(SETTINGS.logFormat, LOG_FORMATS, "json");
  const leaderElect = oneOf(SETTINGS.leaderElect, ["true", "false"] as const, "true") === "true";
  const leaseDurationMs = duration(SETTINGS.leaseDuration, 15_000);
  const renewDeadlineMs = duration(SETTINGS.renewDeadline, 10_000);
  const retryPeriodMs = duration(SETTINGS.retryPeriod, 2_000);
  const shutdownTimeoutMs = duration(SETTINGS.shutdownTimeout, 30_000);

  let leaderElection: RuntimeConfig["leaderElection"] = { enabled: false };
  if (leaderElect) {
    const namespace = raw(SETTINGS.leaseNamespace) || env.POD_NAMESPACE || (defaults.inClusterNamespace ?? defaultInClusterNamespace)();
    const name = raw(SETTINGS.leaseName) || defaults.leaseName;
    if (!namespace) problems.push(`--${SETTINGS.leaseNamespace.flag} (${SETTINGS.leaseNamespace.env}) is required with leader election outside a cluster (or set POD_NAMESPACE, or --leader-elect=false)`);
    else if (!DNS_LABEL.test(namespace)) bad(SETTINGS.leaseNamespace, namespace, "is not a namespace name");
    if (!DNS_SUBDOMAIN.test(name) || name.length > 253) bad(SETTINGS.leaseName, name, "must be a DNS subdomain (lower-case letters, digits, '-' and '.')");
    if (!(leaseDurationMs > renewDeadlineMs)) problems.push(`--lease-duration (${leaseDurationMs} ms) must be longer than --renew-deadline (${renewDeadlineMs} ms)`);
    if (!(renewDeadlineMs > retryPeriodMs * 1.2)) problems.push(`--renew-deadline (${renewDeadlineMs} ms) must be longer than 1.2 × --retry-period (${retryPeriodMs} ms)`);
    leaderElection = { enabled: true, namespace: namespace ?? "", name, leaseDurationMs, renewDeadlineMs, retryPeriodMs };
  }

  let workers = 2;
  const w = raw(SETTINGS.workers);
  if (w !== undefined && w !== "") {
    workers = Number(w);
    if (!/^\d+$/.test(w) || workers < 1 || workers > 64) bad(SETTINGS.workers, w, "must be a whole number from 1 to 64");
  }

  const identityBase = raw(SETTINGS.identity) || hostname();
  const own = extension.parse(raw, bad);
  if (problems.length > 0) throw new ConfigError(problems);
  const runtime: RuntimeConfig = {
    namespaces,
    http,
    logLevel,
    logFormat,
    leaderElection,
    identity: `${identityBase}_${randomUUID().slice(0, 8)}`,
    workers,
    shutdownTimeoutMs,
    kubeconfig: raw(SETTINGS.kubeconfig) || undefined,
  };
  return { runtime, extension: own };
}
