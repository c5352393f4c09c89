import assert from "node:assert/strict";
import { describe, mock, test } from "node:test";
import { MAX_TIMER_MS, realClock } from "../../src/runtime/clock.ts";

describe("realClock.setTimeout", () => {
  test("waits the whole delay beyond Node's timer limit (~24.8 days) instead of firing at once", (t) => {
    mock.timers.enable({ apis: ["setTimeout"] });
    t.after(() => mock.timers.reset());
    let fired = 0;
    realClock.setTimeout(() => fired++, 2 * MAX_TIMER_MS + 1000);
    // One Node timer per step: each tick reaches the end of one.
    mock.timers.tick(1);
    assert.equal(fired, 0, "not after 1 ms");
    mock.timers.tick(MAX_TIMER_MS - 1);
    mock.timers.tick(MAX_TIMER_MS);
    mock.timers.tick(999);
    assert.equal(fired, 0, "not before the delay");
    mock.timers.tick(1);
    assert.equal(fired, 1);
  });

  test("a cancelled long timer never fires, whichever step it is in", (t) => {
    mock.timers.enable({ apis: ["setTimeout"] });
    t.after(() => mock.timers.reset());
    let fired = 0;
    const cancel = realClock.setTimeout(() => fired++, MAX_TIMER_MS + 10);
    mock.timers.tick(MAX_TIMER_MS);
    cancel();
    mock.timers.tick(100);
    assert.equal(fired, 0);
  });
});
