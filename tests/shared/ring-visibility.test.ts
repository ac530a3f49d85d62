// A read after another thread's ring commit (src/shared/rings.ts), told by a message, sees it:
// ring writes do not move the commit count, so the bare read of a `get` also looks at the rings'
// tails (src/database/wiring.ts `quiet`, `RingSide.current`). Real worker_threads: the
// worker loads the built package (fixtures/ring-writer.mjs; `npm run build` first).
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '../../src'
import { R_TAIL } from '../../src/shared/layout'
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
  it('sees a commit it was told about by a message, round after round, with the bare-read path hot', async () => {
    const db = new Database({ shared: true })
    open.push(db)
    const t = db.createTable<{ id: number; n: number }>('t')
    t.insert([1, 2].map((id) => ({ id, n: 0 })))
    const worker = new Worker(new URL('./fixtures/ring-writer.mjs', import.meta.url), { workerData: { db: db.handle() } })
    expect((await next(worker)).type).toBe('attached')
    const missed: Array<{ round: number; seen: number | undefined }> = []
    const rounds = 300
    try {
      for (let round = 1; round <= rounds; round++) {
        for (let k = 0; k < 100; k++) t.get(1)
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
    // The worker's writes went to its ring (the log alone would not test the ring's path).
    const control = new Int32Array(db.handle().buffers.control)
    let written = 0
    for (let r = 1; r < 8; r++) written += Atomics.load(control, ringCtl(r) + R_TAIL)
    expect(written).toBeGreaterThan(0)
  })
})
