export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` every intervalMs until it holds; fails naming `what` after timeoutMs. */
export async function waitFor(
  what: string, done: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}
