/**
 * Retries `check` until it passes or `timeoutMs` runs out. Contract suites use it only against an
 * external (real AWS) target, where some reads are documented as eventually consistent; the local
 * emulators get a single attempt, so a local failure is never hidden by waiting.
 */
export async function retryUntil<T>(
  check: () => Promise<T>,
  timeoutMs: number,
  intervalMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
