/** Base delay of the deadlock retry backoff (the seeds' 0.1 s). */
export const BACKOFF_BASE_MS = 100

/** Exponential backoff with full jitter: a random delay in [0, base × 2^attempt). */
export function backoffDelay(attempt: number, baseMs = BACKOFF_BASE_MS): number {
  return Math.random() * baseMs * 2 ** attempt
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/** Blocks the thread for `ms` (transactions are synchronous, so their retries wait synchronously). */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms)
}
