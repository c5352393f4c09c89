/**
 * The image installs only `dependencies` (the Dockerfile runs `npm prune --omit=dev`): a package that
 * src/ imports at run time but package.json lists under devDependencies would crash the manager or a Job
 * at start-up in the image, while every test here (which has the dev packages) passes. Type-only imports
 * are erased and need nothing.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

/** The package a bare specifier names ("@aws-sdk/client-s3/x" → "@aws-sdk/client-s3"), or undefined for relative and built-in ones. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("node:") || builtinModules.includes(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

test("src/ imports at run time only packages the image installs (package.json dependencies)", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const runtime = new Set(Object.keys(pkg.dependencies));
  const missing: string[] = [];
  const used = new Set<string>();
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    // Value imports and re-exports; `import type …` and `export type …` are erased.
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^"';]*?\sfrom\s+)?["']([^"']+)["']/gm)) {
      const name = packageOf(m[1]!);
      if (name === undefined) continue;
      used.add(name);
      if (!runtime.has(name)) missing.push(`${relative(ROOT, file)} imports ${m[1]!}`);
    }
    for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
      const name = packageOf(m[1]!);
      if (name !== undefined && !runtime.has(name)) missing.push(`${relative(ROOT, file)} imports ${m[1]!} dynamically`);
    }
  }
  assert.deepEqual(missing, [], "move these packages to dependencies");
  assert.ok(used.has("@aws-sdk/client-s3") && used.has("pino"), `the scan found the imports it should (${[...used].join(", ")})`);
});
