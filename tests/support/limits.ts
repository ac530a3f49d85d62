/**
 * A child process's time limit where the limit is only a hang guard: a scenario that could hang
 * runs in a child, and a hang shows as the child killed at this limit. Below vitest's own limit
 * (300 s, vitest.config.ts), so that the child's report fails the test rather than vitest's
 * timeout leaving the child running. Suites run at nice 19 beside benchmarks, where a child that
 * takes 2 s idle can take 30–50 s, and the append-termination program 104 s.
 */
export const CHILD_LIMIT_MS = 240_000
