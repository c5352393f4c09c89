/**
 * The flags the manager's `node` runs with, wherever it runs: the chart's and kustomize's Deployment
 * command (test/chart/helm.test.ts and test/kustomize/kustomize.test.ts hold them to this list), the scale
 * benches and `npm run dev`. The Jobs, which run the same image and entrypoint, get theirs through
 * NODE_OPTIONS from the Job template (JOB_NODE_OPTIONS, src/controllers/shared/job-template.ts).
 *
 * `--max-semi-space-size=2` (MiB; V8's default on 64-bit grows it to 16): the young generation keeps
 * what it grew to, so the burst of list pages, watch events and responses at a start left RSS at its
 * high-water mark for good. Measured with a manager watching empty namespaces after a full GC: 141 MiB
 * in one namespace and 168 MiB in 50 by default (its live heap grew only 8 MiB for the 441 more
 * watches), 118 and 128 MiB with this flag. V8 reads it only when the process starts
 * (`v8.setFlagsFromString` after that leaves new space as it was), so it is a command-line flag and not
 * code in main.ts.
 */
export const MANAGER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2"];
