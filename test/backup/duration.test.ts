/** parseDuration / formatDuration: the CRDs' "90m", "36h", "30d", "1w2d". */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "../../src/backup/retention/duration.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const W = 7 * D;

test("durations parse to milliseconds", () => {
  const cases: Array<[string, number]> = [
    ["0s", 0],
    ["45s", 45 * S],
    ["90m", 90 * M],
    ["36h", 36 * H],
    ["30d", 30 * D],
    ["1w", W],
    ["1w2d", W + 2 * D],
    ["1d12h", D + 12 * H],
    ["12h1d", D + 12 * H],
    ["1h1h", 2 * H],
    ["1w2d3h4m5s", W + 2 * D + 3 * H + 4 * M + 5 * S],
    ["007d", 7 * D],
    ["520w", 520 * W],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
});

test("bad durations are refused with what to write instead", () => {
  const cases: Array<[string, RegExp]> = [
    ["", /is not a duration: write numbers with units s, m, h, d or w, e\.g\. "90m"/],
    ["30", /is not a duration/],
    ["d", /is not a duration/],
    ["30 d", /is not a duration/],
    ["1.5h", /is not a duration/],
    ["-1h", /is not a duration/],
    ["30D", /is not a duration/],
    ["1y", /is not a duration/],
    ["1ms", /is not a duration/],
    ["thirty days", /"thirty days" is not a duration/],
    ["99999999999999999999w", /too long a duration/],
  ];
  for (const [text, message] of cases) assert.throws(() => parseDuration(text), (err: Error) => err instanceof RangeError && message.test(err.message), text);
});

test("formatDuration writes the shortest text, which parses back", () => {
  const cases: Array<[number, string]> = [
    [0, "0s"],
    [45 * S, "45s"],
    [90 * M, "1h30m"],
    [36 * H, "1d12h"],
    [30 * D, "4w2d"],
    [W + 2 * D, "1w2d"],
    [W + 2 * D + 3 * H + 4 * M + 5 * S, "1w2d3h4m5s"],
  ];
  for (const [ms, text] of cases) {
    assert.equal(formatDuration(ms), text);
    assert.equal(parseDuration(text), ms);
  }
  for (const bad of [-1000, 1500, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => formatDuration(bad), RangeError, String(bad));
});
