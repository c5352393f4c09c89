/**
 * The pages under docs/ point at real things: every repository path they name in backticks (src/…,
 * deploy/…, charts/…, e2e/…, test/…, crds/…) and every relative Markdown link exists, and every runbook
 * has the end-to-end test that runs its commands (e2e/runbook-<name>.test.ts opening that runbook), so a
 * runbook cannot be added or renamed without its commands being run.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../env/paths.ts";

const DOCS = join(REPO_ROOT, "docs");
const pages = [...readdirSync(DOCS).filter((f) => f.endsWith(".md")).map((f) => join(DOCS, f)), ...readdirSync(join(DOCS, "runbooks")).map((f) => join(DOCS, "runbooks", f))];

test("every repository path and relative link in docs/ exists", () => {
  const missing: string[] = [];
  for (const page of pages) {
    const text = readFileSync(page, "utf8");
    for (const [, path] of text.matchAll(/`((?:src|deploy|charts|e2e|test|crds|bench)\/[\w./-]+?)\/?`/g)) {
      if (path!.includes("<") || path!.includes("*")) continue;
      if (!existsSync(join(REPO_ROOT, path!))) missing.push(`${page}: ${path}`);
    }
    for (const [, link] of text.matchAll(/\]\(([\w./-]+)(?:#[^)]*)?\)/g)) {
      if (!existsSync(join(dirname(page), link!))) missing.push(`${page}: link ${link}`);
    }
  }
  assert.deepEqual(missing, []);
});

test("every alert's runbook_url is a section of docs/ that exists", () => {
  const rules = readFileSync(join(REPO_ROOT, "charts", "qdrant-operator", "files", "prometheus-rules.yaml"), "utf8");
  const urls = [...rules.matchAll(/runbook_url: "([^"#]+)#([^"]+)"/g)];
  assert.ok(urls.length >= 10, "the alerts carry runbook URLs");
  const missing = urls.filter(([, file, anchor]) => {
    const page = join(REPO_ROOT, file!);
    if (!existsSync(page)) return true;
    const anchors = [...readFileSync(page, "utf8").matchAll(/^#+ (.+)$/gm)].map(([, h]) => h!.toLowerCase().replace(/[^\w\s-]/g, "").trim().replace(/\s+/g, "-"));
    return !anchors.includes(anchor!);
  });
  assert.deepEqual(missing.map(([u]) => u), []);
});

test("every runbook has its end-to-end test, which opens it", () => {
  const runbooks = readdirSync(join(DOCS, "runbooks")).filter((f) => f.endsWith(".md")).map((f) => f.replace(/\.md$/, ""));
  assert.ok(runbooks.length >= 4, "the four runbooks the docs promise");
  for (const name of runbooks) {
    const testFile = join(REPO_ROOT, "e2e", `runbook-${name}.test.ts`);
    assert.ok(existsSync(testFile), `docs/runbooks/${name}.md has e2e/runbook-${name}.test.ts`);
    assert.match(readFileSync(testFile, "utf8"), new RegExp(`openRunbook\\(t, "${name}"`), `${testFile} runs docs/runbooks/${name}.md`);
  }
});
