/** Collection names as key segments: readable when plain, exact when not, bounded in length. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeCollectionSegment, encodeCollectionSegment, isCollectionSegment, MAX_SEGMENT_BYTES } from "../../src/backup/layout/collection-segment.ts";

test("encoding and decoding", () => {
  const cases: Array<[string, string]> = [
    ["docs", "docs"],
    ["Products_v2.1-beta", "Products_v2.1-beta"],
    ["my collection", "my%20collection"],
    ["100%", "100%25"],
    ["a+b#c&d", "a%2Bb%23c%26d"],
    ["~tilde", "%7Etilde"],
    ["é", "%C3%A9"],
    ["名前", "%E5%90%8D%E5%89%8D"],
    [".", "%2E"],
    ["..", "%2E%2E"],
    [".hidden", ".hidden"],
    ["a/b", "a%2Fb"],
  ];
  for (const [name, segment] of cases) {
    assert.equal(encodeCollectionSegment(name), segment, name);
    assert.equal(decodeCollectionSegment(segment), name, segment);
    assert.ok(isCollectionSegment(segment), segment);
  }
});

test("long names are shortened with a hash, stay distinct and bounded, and say they cannot be decoded", () => {
  const a = `${"x".repeat(300)}a`;
  const b = `${"x".repeat(300)}b`;
  const wide = "名".repeat(255);
  for (const name of [a, b, wide, "x".repeat(MAX_SEGMENT_BYTES + 1)]) {
    const segment = encodeCollectionSegment(name);
    assert.ok(segment.length <= MAX_SEGMENT_BYTES, `${segment.length}`);
    assert.match(segment, /~[0-9a-f]{16}$/);
    assert.doesNotMatch(segment.replace(/~[0-9a-f]{16}$/, ""), /%[0-9A-F]?$/, "no escape cut in half");
    assert.equal(decodeCollectionSegment(segment), undefined);
    assert.ok(isCollectionSegment(segment));
    assert.equal(encodeCollectionSegment(name), segment, "deterministic");
  }
  assert.notEqual(encodeCollectionSegment(a), encodeCollectionSegment(b));
  // Exactly at the limit: still plain.
  assert.equal(encodeCollectionSegment("x".repeat(MAX_SEGMENT_BYTES)), "x".repeat(MAX_SEGMENT_BYTES));
});

test("segments encodeCollectionSegment cannot have produced are refused", () => {
  for (const segment of ["", "%2e", "a%41", "%", "%G0", "a b", "a~b", "%2E%2E%2Fhidden", "..", "."]) {
    assert.equal(decodeCollectionSegment(segment), undefined, segment);
  }
  assert.throws(() => encodeCollectionSegment(""), /cannot be empty/);
});
