/**
 * Keeps secrets out of logs, Events and messages, in the manager and in every Job's process alike (a
 * Job registers the secrets its pod got by secretKeyRef, and its failure messages, which anyone who may
 * read Pods can read in the termination message, are scrubbed by the same instance: one redactor, one
 * marker). Two layers:
 *
 * 1. By key: pino's redact paths censor fields whose names say they are secret (password, apiKey,
 *    token, secretAccessKey, an Authorization header…) wherever a log call passes them.
 * 2. By value: every secret the process reads at run time (a Qdrant API key, S3 credentials from a
 *    Secret) is {@link Redactor.register}ed, and every log line and Event note is scrubbed of those values
 *    however they got there: an error message quoting a URL with the key, a stack trace, a response body.
 *
 * Layer 2 runs on the serialized log line (pino's streamWrite hook), so it covers msg, err.message,
 * err.stack and nested fields alike; JSON-escaped, base64 and URL-encoded forms of each value are
 * registered too, because that is how a value appears inside JSON, a Secret's data or a query string.
 */

export const REDACTED = "[REDACTED]";

/** Values shorter than this are not registered: scrubbing "ab" would shred every log line. */
export const MIN_SECRET_LENGTH = 4;

/** Field names censored by key (pino redact paths, one and two levels deep). */
const SECRET_KEYS = ["password", "apiKey", "api_key", "token", "accessToken", "secretAccessKey", "sessionToken", "privateKey", "clientSecret"];

export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  "headers.authorization",
  "*.headers.authorization",
  'headers["api-key"]',
  '*.headers["api-key"]',
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export class Redactor {
  readonly #values = new Set<string>();
  #pattern: RegExp | undefined;

  /** Registers a secret value (and its encoded forms) to be scrubbed from now on. */
  register(value: string | Buffer | undefined | null): void {
    if (value === undefined || value === null) return;
    const s = typeof value === "string" ? value : value.toString("utf8");
    if (s.length < MIN_SECRET_LENGTH) return;
    const forms = [s, JSON.stringify(s).slice(1, -1), Buffer.from(s).toString("base64"), encodeURIComponent(s)];
    // A multi-line secret (a PEM key, an age key file of identities) is also scrubbed line by line, each
    // line trimmed: a log or an error may quote one identity alone, without the file's indentation.
    for (const line of s.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= 16) forms.push(trimmed, line);
    }
    let changed = false;
    for (const f of forms) {
      if (f.length >= MIN_SECRET_LENGTH && !this.#values.has(f)) {
        this.#values.add(f);
        changed = true;
      }
    }
    if (changed) this.#pattern = undefined;
  }

  /** Registers every value of a Secret's `data` (base64) and `stringData`. */
  registerSecret(secret: { data?: Record<string, string> | undefined; stringData?: Record<string, string> | undefined }): void {
    for (const v of Object.values(secret.data ?? {})) {
      this.register(Buffer.from(v, "base64").toString("utf8"));
      this.register(v);
    }
    for (const v of Object.values(secret.stringData ?? {})) this.register(v);
  }

  /** Number of distinct forms registered (for tests and a debug log). */
  size(): number {
    return this.#values.size;
  }

  /** `text` with every registered value replaced by [REDACTED]. */
  scrub(text: string): string {
    if (this.#values.size === 0 || text.length === 0) return text;
    if (!this.#pattern) {
      // Longest first: a value that contains another is replaced whole.
      const alternatives = [...this.#values].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.#pattern = new RegExp(alternatives.join("|"), "g");
    }
    return text.replace(this.#pattern, REDACTED);
  }

  /** A deep copy of `value` with every string scrubbed; Errors become plain objects with scrubbed message and stack. */
  scrubDeep(value: unknown, seen = new WeakSet<object>()): unknown {
    if (typeof value === "string") return this.scrub(value);
    if (typeof value !== "object" || value === null) return value;
    if (seen.has(value)) return "[Circular]";
    seen.add(value);
    if (value instanceof Error) return { name: value.name, message: this.scrub(value.message), stack: value.stack === undefined ? undefined : this.scrub(value.stack) };
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.scrubDeep(v, seen);
    return out;
  }
}

/** Scrubs `text` and caps it at `maxBytes` UTF-8 bytes (an Event note may hold at most 1 kB). */
export function scrubAndTruncate(redactor: Redactor | undefined, text: string, maxBytes: number): string {
  const clean = redactor ? redactor.scrub(text) : text;
  if (Buffer.byteLength(clean) <= maxBytes) return clean;
  let cut = clean.slice(0, maxBytes);
  while (Buffer.byteLength(cut) > maxBytes - 3) cut = cut.slice(0, -1);
  return cut + "...";
}
