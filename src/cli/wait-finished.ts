/**
 * `--wait` of `restore` and `backup now`: watches one object (from the create's resourceVersion, so no
 * change is missed) until its phase is Succeeded or Failed. A watch the server ends is started again from
 * the last version seen; the object being deleted first is an error.
 */
import { Watch } from "@kubernetes/client-node";
import { resourcePath, type KubeObject, type ResourceType } from "../runtime/resource.ts";
import { CliError, explain } from "./kube.ts";

export function waitFinished<T extends KubeObject & { status?: { phase?: string } }>(kc: ConstructorParameters<typeof Watch>[0], rt: ResourceType, namespace: string, name: string, resourceVersion: string): Promise<T> {
  const watch = new Watch(kc);
  return new Promise((resolve, reject) => {
    let rv = resourceVersion;
    let controller: AbortController | undefined;
    const start = () => {
      watch
        .watch(
          resourcePath(rt, namespace),
          { fieldSelector: `metadata.name=${name}`, resourceVersion: rv, allowWatchBookmarks: true },
          (type: string, obj: T) => {
            rv = obj.metadata?.resourceVersion ?? rv;
            if (type === "DELETED") reject(new CliError(`${rt.kind} ${namespace}/${name} was deleted before it finished`));
            const phase = obj.status?.phase;
            if (type !== "BOOKMARK" && (phase === "Succeeded" || phase === "Failed")) {
              controller?.abort();
              resolve(obj);
            }
          },
          (err: unknown) => {
            if (err && (err as { name?: string }).name !== "AbortError") reject(explain(err, "watch", rt, namespace, undefined));
            else if (!controller?.signal.aborted) start();
          },
        )
        .then((c) => (controller = c), (err: unknown) => reject(explain(err, "watch", rt, namespace, undefined)));
    };
    start();
  });
}
