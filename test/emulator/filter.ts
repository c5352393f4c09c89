/**
 * Payload filter evaluation for scroll, count, query and delete-by-filter. It covers the conditions a test
 * or an operator realistically sends (must/should/must_not/min_should, match value/any/except/text, range,
 * values_count, is_empty, is_null, has_id, has_vector, nested filters) with Qdrant's semantics for arrays:
 * a condition on an array field holds if any element satisfies it.
 */
import { formatError } from "./errors.ts";
import { parsePointId, pointKey } from "./point-id.ts";

export interface FilterTarget {
  key: string;
  payload: Record<string, unknown>;
  vectorNames: string[];
}

type Json = unknown;

function asList(v: Json): Json[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Resolves a payload path such as `a.b`, `a[].b` or `a[0]`; arrays met on the way are flattened. */
export function valuesAt(payload: Json, path: string): Json[] {
  let current: Json[] = [payload];
  for (const rawPart of path.split(".")) {
    const m = /^([^[\]]*)((?:\[\d*\])*)$/.exec(rawPart);
    const name = m?.[1] ?? rawPart;
    const brackets = m?.[2] ?? "";
    const next: Json[] = [];
    for (const v of current) {
      for (const obj of Array.isArray(v) ? v : [v]) {
        if (isObject(obj) && name in obj) next.push(obj[name]);
      }
    }
    current = next;
    for (const b of brackets.match(/\[\d*\]/g) ?? []) {
      const idx = b === "[]" ? undefined : Number(b.slice(1, -1));
      current = current.flatMap((v): Json[] => {
        if (!Array.isArray(v)) return [];
        const items = v as Json[];
        if (idx === undefined) return items;
        return items[idx] === undefined ? [] : [items[idx]];
      });
    }
  }
  return current.flatMap((v): Json[] => (Array.isArray(v) ? (v as Json[]) : [v]));
}

function matchValue(values: Json[], match: Record<string, Json>): boolean {
  if ("value" in match) return values.some((v) => v === match.value);
  if ("any" in match) {
    const any = asList(match.any);
    return values.some((v) => any.includes(v));
  }
  if ("except" in match) {
    const except = asList(match.except);
    return values.length === 0 || values.some((v) => !except.includes(v));
  }
  for (const textKey of ["text", "phrase", "prefix", "text_any"]) {
    const needle = match[textKey];
    if (typeof needle !== "string") continue;
    const strings = values.filter((v): v is string => typeof v === "string");
    if (textKey === "prefix") return strings.some((s) => s.startsWith(needle));
    if (textKey === "text_any") {
      const words = needle.split(/\s+/).filter((w) => w !== "");
      return strings.some((s) => words.some((w) => s.includes(w)));
    }
    return strings.some((s) => s.includes(needle));
  }
  throw formatError("data did not match any variant of untagged enum Match");
}

function inRange(x: number, r: Record<string, Json>): boolean {
  const num = (k: string): number | undefined => (typeof r[k] === "number" ? r[k] : undefined);
  const lt = num("lt");
  const lte = num("lte");
  const gt = num("gt");
  const gte = num("gte");
  return (
    (lt === undefined || x < lt) &&
    (lte === undefined || x <= lte) &&
    (gt === undefined || x > gt) &&
    (gte === undefined || x >= gte)
  );
}

function rangeMatches(values: Json[], r: Record<string, Json>): boolean {
  return values.some((v) => {
    if (typeof v === "number") return inRange(v, r);
    if (typeof v === "string") {
      // Datetime ranges compare RFC 3339 strings as instants.
      const t = Date.parse(v);
      if (Number.isNaN(t)) return false;
      const conv: Record<string, Json> = {};
      for (const k of ["lt", "lte", "gt", "gte"]) {
        const bound = r[k];
        if (typeof bound === "string") conv[k] = Date.parse(bound);
        else if (typeof bound === "number") conv[k] = bound;
      }
      return inRange(t, conv);
    }
    return false;
  });
}

function isEmptyField(payload: Json, key: string): boolean {
  const values = valuesAt(payload, key);
  return values.length === 0 || values.every((v) => v === null);
}

function fieldCondition(c: Record<string, Json>, t: FilterTarget): boolean {
  const key = String(c.key);
  const values = valuesAt(t.payload, key);
  if (isObject(c.match)) return matchValue(values, c.match);
  if (isObject(c.range)) return rangeMatches(values, c.range);
  if (isObject(c.values_count)) return inRange(values.length, c.values_count);
  if (c.is_empty === true) return isEmptyField(t.payload, key);
  if (c.is_empty === false) return !isEmptyField(t.payload, key);
  if (c.is_null === true) return values.some((v) => v === null);
  if (c.is_null === false) return !values.some((v) => v === null);
  // Geo conditions need a geo index in Qdrant's emulation scope; they match nothing here.
  return false;
}

function condition(c: Json, t: FilterTarget): boolean {
  if (!isObject(c)) throw formatError("data did not match any variant of untagged enum Condition");
  if ("key" in c) return fieldCondition(c, t);
  if ("has_id" in c) {
    const ids = asList(c.has_id).map((id) => pointKey(parsePointId(id)));
    return ids.includes(t.key);
  }
  if ("is_empty" in c && isObject(c.is_empty)) return isEmptyField(t.payload, String(c.is_empty.key));
  if ("is_null" in c && isObject(c.is_null)) {
    return valuesAt(t.payload, String(c.is_null.key)).some((v) => v === null);
  }
  if ("has_vector" in c) return t.vectorNames.includes(String(c.has_vector));
  if ("nested" in c && isObject(c.nested)) {
    const items = valuesAt(t.payload, String(c.nested.key));
    return items.some((item) =>
      isObject(item) ? matchesFilter(c.nested && isObject(c.nested) ? c.nested.filter : undefined, { ...t, payload: item }) : false,
    );
  }
  if ("must" in c || "should" in c || "must_not" in c || "min_should" in c) return matchesFilter(c, t);
  throw formatError("data did not match any variant of untagged enum Condition");
}

/** True when `filter` (absent = match all) holds for the point. */
export function matchesFilter(filter: Json, t: FilterTarget): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isObject(filter)) throw formatError("invalid type: expected struct Filter");
  const must = asList(filter.must);
  if (!must.every((c) => condition(c, t))) return false;
  const mustNot = asList(filter.must_not);
  if (mustNot.some((c) => condition(c, t))) return false;
  const should = asList(filter.should);
  if (should.length > 0 && !should.some((c) => condition(c, t))) return false;
  if (isObject(filter.min_should)) {
    const conds = asList(filter.min_should.conditions);
    const min = Number(filter.min_should.min_count ?? 0);
    if (conds.filter((c) => condition(c, t)).length < min) return false;
  }
  return true;
}
