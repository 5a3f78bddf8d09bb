// Polling helper for tests that wait on another process or a network round trip (no timing assertions).

/** Resolves once `check()` returns a truthy value (returned); rejects after `timeoutMs` naming `what`. */
export async function waitUntil<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
