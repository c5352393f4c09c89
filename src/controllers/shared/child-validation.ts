/**
 * What the apiserver would refuse in a child object the operator creates (a Job, a QdrantBackup),
 * checked before the create, against our own field: the apiserver's 422 names the child's field
 * (`spec.template.metadata.labels`), which the user never wrote, while these checks name the one they
 * did (`spec.job.podLabels["team"]`). Pure, so every rule is a table test. What these miss still
 * comes back as a 422, which invalid-child.ts maps to our field as well as it can.
 *
 * The rules are Kubernetes' own: label keys and values (apimachinery's qualified names and label
 * values), annotation keys and their total size, resource names and quantities, and a container's
 * limit never below its request for the same resource.
 */
import type { JobSettings } from "../../api/v1alpha1/common.ts";

/** One thing the apiserver would refuse: our field and what to write instead. */
export interface ChildProblem {
  field: string;
  message: string;
}

/** Every problem as one condition message: "field: message; field: message". */
export function describeChildProblems(problems: readonly ChildProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join("; ");
}

/** `spec.job.podLabels["team"]`: a map entry, quoted the way users can search for it. */
export function mapField(base: string, key: string): string {
  return `${base}[${JSON.stringify(key)}]`;
}

const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MAX = 63;
const PREFIX_MAX = 253;
/** apimachinery's TotalAnnotationSizeLimitB: keys and values together. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/** Why `key` is not a qualified name (`[prefix/]name`), or undefined when it is one. */
export function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return "a key is an optional DNS subdomain prefix and a name, separated by one '/'";
  const [prefix, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  if (prefix !== undefined) {
    if (prefix.length === 0) return "the prefix before '/' must not be empty";
    if (prefix.length > PREFIX_MAX) return `the prefix before '/' must be no more than ${PREFIX_MAX} characters`;
    if (!DNS_SUBDOMAIN.test(prefix)) return "the prefix before '/' must be a DNS subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";
  }
  if (name.length === 0) return "the name part must not be empty";
  if (name.length > NAME_MAX) return `the name part must be no more than ${NAME_MAX} characters (it has ${name.length})`;
  if (!NAME.test(name)) return "the name part must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** Why `value` is not a label value, or undefined when it is one (empty is allowed). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length === 0) return undefined;
  if (value.length > NAME_MAX) return `a label value must be no more than ${NAME_MAX} characters (it has ${value.length})`;
  if (!NAME.test(value)) return "a label value must be empty or letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  return undefined;
}

/** Labels (or a nodeSelector, which the apiserver checks as labels) under our field `base`. */
export function checkLabels(labels: Readonly<Record<string, unknown>> | undefined, base: string): ChildProblem[] {
  const problems: ChildProblem[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) problems.push({ field: mapField(base, key), message: `invalid key: ${keyProblem}` });
    if (typeof value !== "string") {
      problems.push({ field: mapField(base, key), message: "the value must be a string" });
      continue;
    }
    const valueProblem = labelValueProblem(value);
    if (valueProblem) problems.push({ field: mapField(base, key), message: valueProblem });
  }
  return problems;
}

/** Annotations under our field `base`: qualified-name keys, and keys and values together at most 256 KiB. */
export function checkAnnotations(annotations: Readonly<Record<string, unknown>> | undefined, base: string): ChildProblem[] {
  const problems: ChildProblem[] = [];
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    const keyProblem = qualifiedNameProblem(key.toLowerCase());
    if (keyProblem) problems.push({ field: mapField(base, key), message: `invalid key: ${keyProblem}` });
    bytes += Buffer.byteLength(key) + Buffer.byteLength(typeof value === "string" ? value : "");
  }
  if (bytes > ANNOTATIONS_MAX_BYTES) problems.push({ field: base, message: `annotations must be no more than ${ANNOTATIONS_MAX_BYTES} bytes in all (keys and values), not ${bytes}` });
  return problems;
}

/** A quantity as mantissa × 10^exp10 × 2^exp2, exact, so two can be compared without rounding. */
export interface ParsedQuantity {
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/;
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Kubernetes' quantity grammar ("500m", "1.5Gi", "2e3", "128974848"); undefined when it is not one. */
export function parseQuantity(text: string): ParsedQuantity | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const [, sign, number, suffix] = m as unknown as [string, string, string, string | undefined];
  const [whole, fraction = ""] = number.split(".");
  const digits = `${whole}${fraction}`.replace(/^0+(?=\d)/, "") || "0";
  let exp10 = -fraction.length;
  let exp2 = 0;
  if (suffix !== undefined) {
    if (suffix in BINARY) exp2 = BINARY[suffix]!;
    else if (suffix in DECIMAL) exp10 += DECIMAL[suffix]!;
    else {
      const e = Number(suffix.slice(1));
      if (!Number.isSafeInteger(e) || Math.abs(e) > 1000) return undefined;
      exp10 += e;
    }
  }
  const mantissa = BigInt(digits);
  return { mantissa: sign === "-" ? -mantissa : mantissa, exp10, exp2 };
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compareQuantities(a: ParsedQuantity, b: ParsedQuantity): number {
  // Bring both to the same (smallest) powers of 10 and 2: then the mantissas compare.
  const e10 = Math.min(a.exp10, b.exp10);
  const e2 = Math.min(a.exp2, b.exp2);
  const scale = (q: ParsedQuantity) => q.mantissa * 10n ** BigInt(q.exp10 - e10) * 2n ** BigInt(q.exp2 - e2);
  const x = scale(a);
  const y = scale(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

type Resources = NonNullable<JobSettings["resources"]>;

/**
 * A container's resources under our field `base` (e.g. `spec.job.resources`): each name a qualified
 * name, each quantity parseable and not negative, and each limit at least its request (the apiserver
 * refuses a memory limit below the memory request, and so on for every resource).
 */
export function checkResources(resources: Resources | undefined, base: string): ChildProblem[] {
  const problems: ChildProblem[] = [];
  const parsed: Record<"limits" | "requests", Map<string, { text: string; q: ParsedQuantity }>> = { limits: new Map(), requests: new Map() };
  for (const kind of ["limits", "requests"] as const) {
    for (const [name, raw] of Object.entries(resources?.[kind] ?? {})) {
      const field = `${base}.${kind}.${name}`;
      const nameProblem = qualifiedNameProblem(name);
      if (nameProblem) {
        problems.push({ field, message: `invalid resource name: ${nameProblem}` });
        continue;
      }
      const text = String(raw);
      const q = parseQuantity(text);
      if (!q) {
        problems.push({ field, message: `"${text}" is not a quantity; write e.g. 500m, 256Mi or 2` });
        continue;
      }
      if (q.mantissa < 0n) {
        problems.push({ field, message: `"${text}" is negative; a quantity must be 0 or more` });
        continue;
      }
      parsed[kind].set(name, { text, q });
    }
  }
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (limit && compareQuantities(limit.q, request.q) < 0) {
      problems.push({ field: `${base}.limits.${name}`, message: `the limit ${limit.text} is below the request ${request.text} (${base}.requests.${name}); a limit must be at least its request` });
    }
  }
  return problems;
}

/**
 * A resource's `spec.job` (under `base`, "spec.job" unless the kind nests it): what the Job and its
 * pod would carry that the apiserver checks and our schema cannot (label rules, quantities).
 */
export function checkJobSettings(job: JobSettings | undefined, base = "spec.job"): ChildProblem[] {
  if (!job) return [];
  return [
    ...checkResources(job.resources, `${base}.resources`),
    ...checkLabels(job.podLabels, `${base}.podLabels`),
    ...checkAnnotations(job.podAnnotations, `${base}.podAnnotations`),
    ...checkLabels(job.nodeSelector, `${base}.nodeSelector`),
  ];
}
