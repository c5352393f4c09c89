/**
 * A toy kind of Job for the protocol tests, run as its own process: `TOY_MODE` says what its work does
 * (succeed, fail quoting its secret, or register an undo step and wait to be stopped).
 */
import { writeFileSync } from "node:fs";
import { OperatorError } from "../../src/errors.ts";
import { runJobCommand } from "../../src/jobs/protocol/run-command.ts";

type Toy = { ok: true; items: string[] };

process.exitCode = await runJobCommand<Toy>({
  name: "toy",
  title: "Toy",
  stopped: "the toy",
  secretEnv: ["TOY_SECRET"],
  smaller: function* (r) {
    const items = [...r.items];
    while (items.length > 0) {
      items.pop();
      yield { ...r, items: [...items] };
    }
  },
  async run({ env, log, cleanup }) {
    switch (env.TOY_MODE) {
      case "succeed":
        log.info({ token: env.TOY_SECRET }, `working with ${env.TOY_SECRET}`);
        return { ok: true, items: Array.from({ length: Number(env.TOY_ITEMS ?? 1) }, (_, i) => `item-${i}-${"x".repeat(40)}`) };
      case "fail":
        throw new OperatorError("COLLECTION_NOT_FOUND", `collection "docs" does not exist (asked with ${env.TOY_SECRET})`);
      case "wait": {
        cleanup.add("undo the toy's work", () => Promise.resolve(writeFileSync(env.TOY_UNDONE!, "undone")));
        console.log(JSON.stringify({ msg: "waiting" }));
        await new Promise(() => setInterval(() => undefined, 1000));
        throw new Error("unreachable");
      }
      default:
        throw new TypeError(`no TOY_MODE ${env.TOY_MODE}`);
    }
  },
});

// TOY_LINGER: the process stays alive after its result is written (sockets still draining, in a real
// Job), so a SIGTERM can arrive after the result.
if (process.env.TOY_LINGER) {
  setInterval(() => undefined, 1000);
  console.log(JSON.stringify({ msg: "lingering" }));
}
