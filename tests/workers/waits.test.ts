// No wait on shared memory is unbounded: a guard word or the append mutex that stays taken makes
// a write give up at the lock timeout, and a thread never waits on what it holds itself. Each
// case runs in a child process with a time limit: before the fix, these spun for good.
import { describe, expect, it } from 'vitest'
import { SharedMemory } from '../../src/shared/memory'
import { runProgram } from './support'

const layout = SharedMemory.create(1 << 16)
/** A thread slot nobody uses: a holder that is alive but never lets go. */
const OTHER = 5

async function writeWith(index: number, value: number): Promise<{ name: string; ms: number }> {
  const run = await runProgram('stuck-word', [String(index), String(value)])
  expect(run.timedOut).toBe(false)
  expect(run.code).toBe(0)
  return JSON.parse(run.stdout)
}

describe('waits on shared memory', () => {
  it("a table's guard word held by another thread that never lets go: the write gives up with LockTimeoutError", async () => {
    // Lock slot 1 is the first table's.
    expect((await writeWith(layout.lock(1), OTHER + 1)).name).toBe('LockTimeoutError')
  })

  it('the append mutex held by another thread that never lets go: the write gives up with LockTimeoutError', async () => {
    expect((await writeWith(layout.appendWord, OTHER + 1)).name).toBe('LockTimeoutError')
  })

  it('the append mutex marked as held by the writing thread itself: LockTimeoutError at once, no wait', async () => {
    const result = await writeWith(layout.appendWord, 0 + 1) // the creating thread has slot 0
    expect(result.name).toBe('LockTimeoutError')
    expect(result.ms).toBeLessThan(300) // the lock timeout: it did not wait for it
  })
})
