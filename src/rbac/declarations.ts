/**
 * Every declaration of the operator: the manager's (src/manager/rbac.ts) and the `RBAC` export of each
 * controller folder's rbac.ts, found by listing src/controllers/, so a new controller's rights are
 * generated as soon as its folder has one. A controller folder without an rbac.ts is an error, not a
 * controller that silently gets no rights.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { RBAC as MANAGER } from "../manager/rbac.ts";
import type { PermissionSet } from "./permission.ts";

export const CONTROLLERS_DIR = resolve(import.meta.dirname, "..", "controllers");

const exists = (path: string) => stat(path).then(() => true, () => false);

/** The folders under src/controllers/ that hold a controller (a controller.ts). */
export async function controllerFolders(dir = CONTROLLERS_DIR): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const folders: string[] = [];
  for (const e of entries) if (e.isDirectory() && (await exists(join(dir, e.name, "controller.ts")))) folders.push(e.name);
  return folders.sort();
}

function isPermissionSet(x: unknown): x is PermissionSet {
  const s = x as PermissionSet | undefined;
  return typeof s?.owner === "string" && Array.isArray(s.permissions);
}

/** The manager's set, then each controller's, by folder name. */
export async function loadDeclarations(dir = CONTROLLERS_DIR): Promise<PermissionSet[]> {
  const sets: PermissionSet[] = [MANAGER];
  for (const folder of await controllerFolders(dir)) {
    const file = join(dir, folder, "rbac.ts");
    if (!(await exists(file))) throw new Error(`src/controllers/${folder}/ has a controller but no rbac.ts declaring what it may do`);
    const mod = (await import(pathToFileURL(file).href)) as { RBAC?: unknown };
    if (!isPermissionSet(mod.RBAC)) throw new Error(`src/controllers/${folder}/rbac.ts must export RBAC: PermissionSet`);
    sets.push(mod.RBAC);
  }
  return sets;
}
