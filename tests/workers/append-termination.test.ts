// A worker terminated anywhere in the append mutex's take or release leaves nobody waiting on the
// mutex beyond its death: while it backs off (in a pause or looking at the word), spins or sleeps it holds nothing (and the reaper leaves the
// real holder alone); once it has taken the word, its own flag is set before V8 can end it, so the
// reaper frees the word; once it has let go, its flag is clear before V8 can end it, so the reaper
// leaves the next holder alone. A write ended before its release is never appended; the others'
// writes are, once each.
// Each case runs in a child process with a time limit (programs/append-termination.mjs; the
// worker is fixtures/append-victim.mjs): a mutex left taken would make every later write wait.
import { describe, expect, it } from 'vitest'
import { COMMIT_LOCKED, COMMIT_SLEEPER } from '../../src/shared/append-mutex'
import { H_COMMITS, MAX_THREADS, THREADS_BASE, THREAD_WORDS, T_APPENDING, T_STATE, T_THREAD_ID } from '../../src/shared/layout'
import { CHILD_LIMIT_MS } from '../support/limits'
import { runProgram } from './support'

const words = {
  ...{ threadsBase: THREADS_BASE, threadWords: THREAD_WORDS, state: T_STATE, thread: T_THREAD_ID, maxThreads: MAX_THREADS },
  ...{ commits: H_COMMITS, appending: T_APPENDING, locked: COMMIT_LOCKED, sleeper: COMMIT_SLEEPER },
}

/** How the writes around a worker terminated at `point` ended (see the program). */
async function terminatedAt(point: 'pause' | 'backoff' | 'spin' | 'sleep' | 'window' | 'fast' | 'held' | 'release' | 'released') {
  const run = await runProgram('append-termination', [point, JSON.stringify(words)], CHILD_LIMIT_MS)
  expect(run.timedOut, run.stderr).toBe(false)
  expect(run.code, run.stderr).toBe(0)
  return JSON.parse(run.stdout)
}

/** Both other writes went through once each; the dead worker's never did; the mutex is free. */
const everyOtherWriteOnce = { bystander: 'ok', main: 'ok', v: 2, fresh: [{ id: 1, v: 2 }], free: true }

describe("a worker terminated in the append mutex's take or its release", () => {
  it.each([
    ['pause', 'inside a pause of its backoff from the held mutex: the holder keeps it, then every other write goes through once', true],
    ['backoff', 'while backing off from the held mutex: the holder keeps it, then every other write goes through once', true],
    ['spin', 'while spinning on the held mutex: the holder keeps it, then every other write goes through once', true],
    ['sleep', 'asleep on the held mutex: the holder keeps it, then every other write goes through once', true],
    ['window', 'right after the compare-and-swap that took the mutex from a sleep: the reaper frees it, every other write goes through once', null],
    ['fast', 'right after the first compare-and-swap, which took the free mutex: the reaper frees it, every other write goes through once', null],
    ['held', 'holding the mutex before writing its entry: the reaper frees it, every other write goes through once', null],
    ['release', 'at the swap that would publish its entry and let go: the reaper frees it, every other write goes through once', null],
  ] as const)('terminated at %s: %s', async (point, _, mainHolds) => {
    expect(await terminatedAt(point)).toEqual({ ...everyOtherWriteOnce, mainHolds })
  })

  it('terminated right after the swap that published its entry and let go, another thread holding the mutex by then: the reaper leaves that holder alone, and every write went through once', async () => {
    expect(await terminatedAt('released')).toEqual({ bystander: 'ok', main: 'ok', v: 3, fresh: [{ id: 1, v: 3 }], mainHolds: true, free: true })
  })
})
