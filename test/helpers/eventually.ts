/**
 * Polls `probe` until it returns a value, failing after `timeoutMs` with `what` and the last error in the
 * message. For state owned by another process (a Job's status, a Node's condition, a manager child
 * process) there is nothing local to await; this is the one place tests poll.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `; last error: ${lastError.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
