// A worker terminated while it seals the thread rings into the log (src/shared/ring-seal.ts: every
// holder of the append mutex does, first) loses no ring entry and repeats none: whether it died
// before the seal was published (the reaper frees the mutex at the old count, and the next holder
// seals the same entries again) or after, every entry that any thread applied is in the log once:
// a replica attached afterwards (from the snapshot and the log) has the same records as the
// survivor, and a listener in another thread heard each update exactly once, in order.
// Each case runs in a child process with a time limit (programs/seal-termination.mjs; the victim
// is fixtures/seal-victim.mjs, the listener fixtures/seal-listener.mjs).
import { describe, expect, it } from 'vitest'
import { H_COMMITS, MAX_THREADS, RINGS_BASE, RING_WORDS, R_SEALED, R_STAMP, R_TAIL, THREADS_BASE, THREAD_WORDS, T_STATE, T_THREAD_ID } from '../../src/shared/layout'
import { CHILD_LIMIT_MS } from '../support/limits'
import { runProgram } from './support'

const words = {
  ...{ threadsBase: THREADS_BASE, threadWords: THREAD_WORDS, state: T_STATE, thread: T_THREAD_ID, maxThreads: MAX_THREADS },
  ...{ commits: H_COMMITS, ringsBase: RINGS_BASE, ringWords: RING_WORDS, tail: R_TAIL, sealed: R_SEALED, stamp: R_STAMP },
}

describe('a worker terminated while it seals the thread rings', () => {
  it.each([
    ['sealed', 'right after its first store of a ring\'s sealed position'],
    ['stamps', 'right after its first store of the rings\' last stamps'],
    ['release', 'at the swap that would publish its seal and let go of the append mutex'],
  ] as const)('terminated at %s (%s): every ring entry reaches the log once', async (point, _where) => {
    const run = await runProgram('seal-termination', [point, JSON.stringify(words)], CHILD_LIMIT_MS)
    expect(run.timedOut, run.stderr).toBe(false)
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ unsealed: true, n1: 100, n2: 5000, freshSame: true, freshN1: 100, heardOnce: true, heardN1: 100 })
  })
})
