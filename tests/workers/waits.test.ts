// No wait on shared memory is unbounded: a guard word or the append mutex that stays taken makes
// a write give up at the lock timeout, and a thread never waits on what it holds itself. Each
// case runs in a child process with a time limit: before the fix, these spun for good.
import { describe, expect, it } from 'vitest'
import { SharedMemory } from '../../src/shared/memory'
import { COMMIT_LOCKED, appendingFlag } from '../../src/shared/append-mutex'
import { H_COMMITS } from '../../src/shared/layout'
import { runProgram } from './support'

const layout = SharedMemory.create(1 << 16)
/** A thread slot nobody uses: a holder that is alive but never lets go. */
const OTHER = 5

/**
 * Longer than the child's time limit (20 s): a write that waited for the lock timeout is killed
 * there and reported as timed out, so "at once" needs no clock in the test.
 */
const BEYOND_THE_TIME_LIMIT = 60_000

/** The words that make the append mutex look held by thread slot `slot`. */
const appendHeldBy = (slot: number): number[] => [H_COMMITS, COMMIT_LOCKED, appendingFlag(slot), 1]

async function writeWith(words: number[], lockTimeoutMs = 300): Promise<{ name: string; ms: number }> {
  const run = await runProgram('stuck-word', [String(lockTimeoutMs), ...words.map(String)])
  expect(run.timedOut).toBe(false)
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

describe('waits on shared memory', () => {
  it("a table's guard word held by another thread that never lets go: the write gives up with LockTimeoutError", async () => {
    // Lock slot 1 is the first table's.
    expect((await writeWith([layout.lock(1), OTHER + 1])).name).toBe('LockTimeoutError')
  })

  it('the append mutex held by another thread that never lets go: the write gives up with LockTimeoutError', async () => {
    expect((await writeWith(appendHeldBy(OTHER))).name).toBe('LockTimeoutError')
  })

  it('the append mutex marked as held by the writing thread itself: LockTimeoutError at once, no wait', async () => {
    // The creating thread has slot 0. Had it waited for the lock timeout, the child would time out.
    const result = await writeWith(appendHeldBy(0), BEYOND_THE_TIME_LIMIT)
    expect(result.name).toBe('LockTimeoutError')
  })
})
