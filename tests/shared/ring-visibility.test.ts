// A read after another thread's ring commit (src/shared/rings.ts), told by a message, sees it:
// ring writes do not move the commit count, so the bare read of a `get` also looks at the rings'
// tails while `H_SEALED_AT` says a ring is live, and a reader that found nothing new a while seals
// them (src/shared/replica.ts `quietRead`), after which the next ring write must make the word
// live again before it is published. Real worker_threads: the
// worker loads the built package (fixtures/ring-writer.mjs; `npm run build` first).
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '../../src'
import { H_COMMITS, H_SEALED_AT, R_TAIL } from '../../src/shared/layout'
import { COMMIT_FLAGS } from '../../src/shared/append-mutex'
import { IDLE_SEAL } from '../../src/shared/replica'
import { ringCtl } from '../../src/shared/rings'

const open: Array<{ close(): void }> = []
afterEach(async () => {
  for (const x of open.splice(0)) x.close()
})

function next(worker: Worker): Promise<{ type: string; round?: number }> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => reject(error)
    worker.once('message', (message) => {
      worker.off('error', fail)
      resolve(message)
    })
    worker.once('error', fail)
  })
}

describe('a shared get after another thread\'s ring commit', () => {
  it.each([
    ['with the bare-read path hot', 100],
    ['when the reader sealed the idle rings between the rounds', IDLE_SEAL + 200],
  ])('sees a commit it was told about by a message, round after round, %s', async (_, getsPerRound) => {
    const db = new Database({ shared: true })
    open.push(db)
    const t = db.createTable<{ id: number; n: number }>('t')
    t.insert([1, 2].map((id) => ({ id, n: 0 })))
    const worker = new Worker(new URL('./fixtures/ring-writer.mjs', import.meta.url), { workerData: { db: db.handle() } })
    expect((await next(worker)).type).toBe('attached')
    const missed: Array<{ round: number; seen: number | undefined }> = []
    const control = new Int32Array(db.handle().buffers.control)
    let sealedRounds = 0
    const rounds = 300
    try {
      for (let round = 1; round <= rounds; round++) {
        for (let k = 0; k < getsPerRound; k++) t.get(1)
        // The rings all sealed at the count (by this thread's reads, the worker being idle).
        if (Atomics.load(control, H_SEALED_AT) === (Atomics.load(control, H_COMMITS) & ~COMMIT_FLAGS)) sealedRounds++
        worker.postMessage({ round })
        await next(worker)
        const seen = t.get(2)?.n
        if (seen !== round) missed.push({ round, seen })
      }
    } finally {
      worker.postMessage({ end: true })
      await worker.terminate()
    }
    expect(missed).toEqual([])
    if (getsPerRound > IDLE_SEAL) expect(sealedRounds).toBeGreaterThan(rounds / 2)
    // The worker's writes went to its ring (the log alone would not test the ring's path).
    let written = 0
    for (let r = 1; r < 8; r++) written += Atomics.load(control, ringCtl(r) + R_TAIL)
    expect(written).toBeGreaterThan(0)
  })
})
