import assert from "node:assert/strict";
import { test } from "node:test";
import { configHelp, parseConfig, parseConfigWith, parseDuration, type ConfigExtension } from "../../src/runtime/config.ts";
import { ConfigError } from "../../src/runtime/errors.ts";

const defaults = { leaseName: "example-operator-leader", inClusterNamespace: () => undefined };

function problems(argv: string[], env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(argv, env, defaults);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, "RUNTIME_CONFIG_INVALID");
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("defaults: all namespaces, :8080, info, json, leader election in the pod's namespace", () => {
  const c = parseConfig([], { POD_NAMESPACE: "operators", POD_NAME: "op-0" }, defaults);
  assert.equal(c.namespaces, "all");
  assert.deepEqual(c.http, { host: "0.0.0.0", port: 8080 });
  assert.equal(c.logLevel, "info");
  assert.equal(c.logFormat, "json");
  assert.deepEqual(c.leaderElection, { enabled: true, namespace: "operators", name: "example-operator-leader", leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  assert.match(c.identity, /^op-0_[0-9a-f]{8}$/);
  assert.equal(c.shutdownTimeoutMs, 30_000);
});

test("flags win over environment variables", () => {
  const c = parseConfig(
    ["--namespaces=a, b,a", "--http-address=127.0.0.1:9090", "--log-level", "debug", "--log-format=pretty", "--leader-elect=false"],
    { WATCH_NAMESPACES: "zzz", LOG_LEVEL: "error", HTTP_ADDRESS: ":1" },
    defaults,
  );
  assert.deepEqual(c.namespaces, ["a", "b"]);
  assert.deepEqual(c.http, { host: "127.0.0.1", port: 9090 });
  assert.equal(c.logLevel, "debug");
  assert.equal(c.logFormat, "pretty");
  assert.deepEqual(c.leaderElection, { enabled: false });
});

test("environment variables configure everything", () => {
  const c = parseConfig([], { WATCH_NAMESPACES: "*", HTTP_ADDRESS: "[::1]:8081", LEADER_ELECTION_NAMESPACE: "ops", LEASE_DURATION: "30s", RENEW_DEADLINE: "20s", RETRY_PERIOD: "500ms", MAX_CONCURRENT_RECONCILES: "8" }, defaults);
  assert.equal(c.namespaces, "all");
  assert.deepEqual(c.http, { host: "::1", port: 8081 });
  assert.equal(c.workers, 8);
  assert.ok(c.leaderElection.enabled);
  assert.equal(c.leaderElection.leaseDurationMs, 30_000);
  assert.equal(c.leaderElection.retryPeriodMs, 500);
});

test("every bad setting is reported at once, naming flag, variable and what is accepted", () => {
  const p = problems(["--namespaces=Good,-bad", "--log-level=loud", "--http-address=nope", "--lease-duration=10s", "--renew-deadline=15s", "--workers=0"], {});
  assert.equal(p.length, 6, p.join("\n"));
  assert.match(p[0]!, /^--namespaces \(WATCH_NAMESPACES\) = "Good,-bad": "Good", "-bad" are not namespace names/);
  assert.ok(p.some((x) => /--log-level \(LOG_LEVEL\) = "loud": must be one of trace, debug, info, warn, error, fatal, silent/.test(x)));
  assert.ok(p.some((x) => /--http-address \(HTTP_ADDRESS\) = "nope": must be "host:port"/.test(x)));
  assert.ok(p.some((x) => /--leader-election-namespace \(LEADER_ELECTION_NAMESPACE\) is required/.test(x)));
  assert.ok(p.some((x) => /--lease-duration \(10000 ms\) must be longer than --renew-deadline \(15000 ms\)/.test(x)));
  assert.ok(p.some((x) => /--workers \(MAX_CONCURRENT_RECONCILES\) = "0"/.test(x)));
});

test("an unknown flag is an error that lists the known ones", () => {
  const p = problems(["--namespace=x"]);
  assert.match(p[0]!, /Unknown option '--namespace'.*known flags: --namespaces/);
});

test("the error message reads as a list", () => {
  try {
    parseConfig(["--log-format=xml", "--leader-elect=maybe"], { POD_NAMESPACE: "ops" }, defaults);
    assert.fail("expected an error");
  } catch (err) {
    assert.match((err as Error).message, /^invalid configuration:\n {2}- --log-format \(LOG_FORMAT\) = "xml": must be one of json, pretty\n {2}- --leader-elect \(LEADER_ELECT\) = "maybe": must be one of true, false$/);
  }
});

test("durations", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("15"), undefined);
  assert.equal(parseDuration("-1s"), undefined);
});

test("help lists every flag with its variable", () => {
  const help = configHelp();
  for (const f of ["--namespaces", "WATCH_NAMESPACES", "--http-address", "--log-format", "--leader-elect"]) assert.ok(help.includes(f), f);
  assert.ok(!help.includes("--default-job-image"), "the runtime knows no product setting");
});

/** A product's own setting, as an operator built on the runtime declares it. */
const colour = { flag: "colour", env: "COLOUR", help: "red|blue (default red)" };
const extension: ConfigExtension<{ colour: string }> = {
  settings: [colour],
  parse(raw, bad) {
    const v = raw(colour) || "red";
    if (v !== "red" && v !== "blue") bad(colour, v, "must be red or blue");
    return { colour: v };
  },
};

test("an extension's settings: flag over variable, listed in help, problems reported with the runtime's", () => {
  assert.equal(parseConfigWith([], { POD_NAMESPACE: "ops" }, defaults, extension).extension.colour, "red");
  assert.equal(parseConfigWith(["--colour=blue"], { POD_NAMESPACE: "ops", COLOUR: "red" }, defaults, extension).extension.colour, "blue");
  assert.equal(parseConfigWith([], { POD_NAMESPACE: "ops", COLOUR: "blue" }, defaults, extension).extension.colour, "blue");
  assert.ok(configHelp(extension.settings).includes("--colour"));
  try {
    parseConfigWith(["--colour=green", "--log-level=loud"], { POD_NAMESPACE: "ops" }, defaults, extension);
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.problems.length, 2, err.problems.join("\n"));
    assert.ok(err.problems.some((x) => x === '--colour (COLOUR) = "green": must be red or blue'));
  }
  assert.throws(() => parseConfig(["--colour=blue"], { POD_NAMESPACE: "ops" }, defaults), /Unknown option '--colour'/, "without the extension the flag is unknown");
});
