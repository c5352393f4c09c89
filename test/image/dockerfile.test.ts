/**
 * The Dockerfile passes a real hadolint (the release binary, test/helpers/tools.ts hadolintPath), at
 * its default threshold: any finding fails. A Dockerfile with known mistakes is flagged by the same
 * binary, so a silent or broken linter cannot pass this test.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { REPO_ROOT } from "../env/paths.ts";
import { HADOLINT_VERSION, hadolintPath } from "../helpers/tools.ts";

const run = promisify(execFile);

interface Finding {
  code: string;
  level: string;
  line: number;
  message: string;
}

async function lint(file: string): Promise<{ code: number; findings: Finding[] }> {
  try {
    const { stdout } = await run(await hadolintPath(), ["--format", "json", file]);
    return { code: 0, findings: JSON.parse(stdout || "[]") as Finding[] };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, findings: JSON.parse(e.stdout || "[]") as Finding[] };
  }
}

test(`hadolint ${HADOLINT_VERSION}: the Dockerfile has no finding; a Dockerfile with known mistakes has them`, async (t) => {
  const { stdout } = await run(await hadolintPath(), ["--version"]);
  assert.match(stdout, new RegExp(`Haskell Dockerfile Linter ${HADOLINT_VERSION.replaceAll(".", "\\.")}`));

  const ours = await lint(join(REPO_ROOT, "Dockerfile"));
  assert.deepEqual(ours.findings.map((f) => `${f.line} ${f.code} ${f.message}`), []);
  assert.equal(ours.code, 0);

  const dir = await mkdtemp(join(tmpdir(), "hadolint-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bad = join(dir, "Dockerfile");
  await writeFile(bad, "FROM node:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n");
  const flagged = await lint(bad);
  assert.notEqual(flagged.code, 0);
  const codes = flagged.findings.map((f) => f.code);
  for (const code of ["DL3007", "DL3008", "DL3002"]) assert.ok(codes.includes(code), `${code} in ${codes.join(", ")}`);
});
