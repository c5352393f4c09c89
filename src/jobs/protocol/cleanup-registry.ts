/**
 * What a run must undo if it is stopped from outside: SIGTERM comes when the Job is deleted, reaches its
 * activeDeadlineSeconds, or its node drains. Unlike SIGKILL there is a grace period, so the run deletes
 * its node-local snapshots and aborts its multipart uploads itself instead of leaving them to a retry
 * that, for a deleted Job, never comes. Work registers an undo step while it is outstanding and removes
 * it when done; on SIGTERM the steps still registered run (concurrently, each best-effort).
 */
export class CleanupRegistry {
  private readonly steps = new Map<number, { what: string; run: () => Promise<unknown> }>();
  private next = 0;

  /** Registers an undo step; the returned function unregisters it. */
  add(what: string, run: () => Promise<unknown>): () => void {
    const id = this.next++;
    this.steps.set(id, { what, run });
    return () => {
      this.steps.delete(id);
    };
  }

  /** Runs every registered step; returns the failures as "what: why". */
  async runAll(): Promise<string[]> {
    const steps = [...this.steps.values()];
    this.steps.clear();
    const settled = await Promise.allSettled(steps.map((s) => s.run()));
    return settled.flatMap((r, i) => (r.status === "rejected" ? [`${steps[i]!.what}: ${(r.reason as Error).message ?? String(r.reason)}`] : []));
  }
}
