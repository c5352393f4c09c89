import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareTurns, itemAhead, nextInLine, type TurnItem } from "../../../src/controllers/shared/turns/line.ts";

function item(name: string, o: Partial<TurnItem> = {}): TurnItem {
  return { kind: "QdrantBackup", namespace: "prod", name, connection: "qdrant", createdAt: "2026-01-15T02:00:00Z", state: "Ready", ...o };
}
const names = (items: Array<TurnItem | undefined>) => items.map((i) => i?.name);

describe("line", () => {
  test("order: creation time, then kind, namespace and name; an unreadable time sorts last", () => {
    const line = [
      item("c"),
      item("z", { createdAt: "2026-01-15T01:00:00Z" }),
      item("a", { namespace: "staging" }),
      item("r", { kind: "QdrantRestore" }),
      item("b"),
      item("bad", { createdAt: "" }),
    ].sort(compareTurns);
    assert.deepEqual(names(line), ["z", "b", "c", "a", "r", "bad"]);
  });

  const me = { kind: "QdrantBackup", namespace: "prod", name: "m", createdAt: "2026-01-15T02:00:00Z" };
  const rows: Array<[string, TurnItem[], string | undefined]> = [
    ["alone", [], undefined],
    ["itself is not in its own way", [item("m")], undefined],
    ["a running item, newer or not", [item("z", { createdAt: "2026-01-15T02:05:00Z", state: "Running" })], "z"],
    ["an older ready item", [item("a", { createdAt: "2026-01-15T01:59:59Z" })], "a"],
    ["same second: the name decides", [item("a"), item("n")], "a"],
    ["a newer ready item waits for me, not I for it", [item("n", { createdAt: "2026-01-15T02:00:01Z" })], undefined],
    ["of kind, namespace or connection: all one line", [item("x", { kind: "QdrantRestore", namespace: "other", connection: "q2", createdAt: "2026-01-15T01:00:00Z" })], "x"],
    [
      "the nearest before it, not the head: the name stays while the head moves",
      [item("head", { createdAt: "2026-01-15T01:00:00Z", state: "Running" }), item("mid", { createdAt: "2026-01-15T01:30:00Z" }), item("next", { createdAt: "2026-01-15T01:45:00Z" })],
      "next",
    ],
    ["a running one when nothing is before it", [item("r", { createdAt: "2026-01-15T03:00:00Z", state: "Running" }), item("n", { createdAt: "2026-01-15T04:00:00Z" })], "r"],
  ];
  for (const [what, line, want] of rows) test(`itemAhead: ${what}`, () => assert.equal(itemAhead(me, line)?.name, want));

  test("of items created together, exactly one may start, and nextInLine names it", () => {
    const line = [item("nightly-20260115-0200"), item("hourly-20260115-0200"), item("x", { kind: "QdrantRestore" })];
    assert.deepEqual(line.filter((x) => itemAhead(x, line) === undefined).map((x) => x.name), ["hourly-20260115-0200"]);
    assert.equal(nextInLine(line)?.name, "hourly-20260115-0200");
    assert.equal(nextInLine([...line, item("run", { createdAt: "2026-01-16T00:00:00Z", state: "Running" })]), undefined, "nobody's turn while one runs");
    assert.equal(nextInLine([]), undefined);
  });
});
