/**
 * Images without a runtime: a reference is normalised the way containerd does (`node:26` is
 * `docker.io/library/node:26`) and looked up in the image map, whose ENTRYPOINT/CMD/ENV then combine with
 * the container's command/args as a container runtime combines them.
 */
import { createHash } from "node:crypto";
import type { ImageConfig } from "../images.ts";
import type { Container } from "./types.ts";

/** docker.io/library/<name>:latest for bare names; registries are recognised by a dot, a colon or "localhost". */
export function normalizeImageRef(ref: string): string {
  let name = ref.trim();
  const slash = name.indexOf("/");
  const first = slash < 0 ? "" : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost");
  if (!hasRegistry) name = `docker.io/${slash < 0 ? `library/${name}` : name}`;
  else if (first === "index.docker.io") name = `docker.io/${name.slice(slash + 1)}`;
  if (name.startsWith("docker.io/") && name.split("/").length === 2) name = name.replace("docker.io/", "docker.io/library/");
  const lastSlash = name.lastIndexOf("/");
  const tail = name.slice(lastSlash + 1);
  if (!tail.includes(":") && !tail.includes("@")) name = `${name}:latest`;
  return name;
}

export interface ResolvedImage {
  /** The normalised reference, reported as the container status's `image`. */
  ref: string;
  /** Stands in for a digest: the hash of the map entry, so a changed entry is a "different image". */
  imageID: string;
  config: ImageConfig;
}

/** Normalises both the map's keys and the reference, so either form works on either side. */
export function resolveImage(images: Record<string, ImageConfig>, ref: string): ResolvedImage | undefined {
  const wanted = normalizeImageRef(ref);
  for (const [key, config] of Object.entries(images)) {
    if (normalizeImageRef(key) !== wanted) continue;
    const digest = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    const repo = wanted.replace(/[:@][^/]*$/, "");
    return { ref: wanted, imageID: `${repo}@sha256:${digest}`, config };
  }
  return undefined;
}

/**
 * The argv a runtime would exec: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD.
 * Expansion of `$(VAR)` in command/args is the caller's job (it needs the container's env).
 */
export function containerArgv(image: ImageConfig, container: Pick<Container, "command" | "args">): string[] {
  const entrypoint = container.command && container.command.length > 0 ? container.command : (image.entrypoint ?? []);
  const cmd = container.args && container.args.length > 0 ? container.args : container.command && container.command.length > 0 ? [] : (image.cmd ?? []);
  return [...entrypoint, ...cmd];
}
