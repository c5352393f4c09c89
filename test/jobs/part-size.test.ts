import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { choosePartSize, MIB } from "../../src/jobs/backup/part-size.ts";

describe("choosePartSize", () => {
  it("uses 8 MiB parts up to ~70 GiB", () => {
    assert.equal(choosePartSize(0), 8 * MIB);
    assert.equal(choosePartSize(1), 8 * MIB);
    assert.equal(choosePartSize(8 * MIB * 9000), 8 * MIB);
  });

  it("grows past 8 MiB so that a snapshot never needs more than 9,000 parts, in whole MiB", () => {
    assert.equal(choosePartSize(8 * MIB * 9000 + 1), 9 * MIB);
    const gib = 1024 * MIB;
    for (const size of [78 * gib, 100 * gib, 1024 * gib, 5000 * gib, 40_000 * gib]) {
      const part = choosePartSize(size);
      assert.equal(part % MIB, 0, `${size}: whole MiB`);
      assert.ok(Math.ceil(size / part) <= 9000, `${size}: ${Math.ceil(size / part)} parts`);
      assert.ok(Math.ceil(size / (part - MIB)) > 9000, `${size}: the smallest such part`);
    }
  });

  it("refuses sizes S3 cannot hold and non-sizes", () => {
    assert.throws(() => choosePartSize(5 * 1024 * 1024 * MIB * 10_000), /beyond S3's largest object/);
    assert.throws(() => choosePartSize(-1), RangeError);
    assert.throws(() => choosePartSize(Number.NaN), RangeError);
  });
});
