// With one snapshot encoder at a time (session 20), a writer whose append moved the ring's head
// while another thread encoded left the snapshot to it. The other's covers that head unless its
// encode outlasted a whole ring pass (a tiny ring, a large database): then, once writes stopped,
// the head stayed past the published snapshot, and a thread that had to rebuild (one attaching,
// or one the ring overtook) waited for a snapshot that never came, until its lock timeout.
// The interleaving is forced (fixtures/snapshot-outlasted.mjs): the encoder stops before copying
// its snapshot in until the other writer has moved the head past it and found the mutex held.
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from 'dictdb'
import { H_HEAD, H_SNAP_MUTEX, H_SNAP_SEQ, MAX_THREADS, THREADS_BASE, THREAD_WORDS, T_APPLIED, T_STATE, T_THREAD_ID } from '../../src/shared/layout'
import { SharedMemory } from '../../src/shared/memory'
import { Workers } from './support'

const words = {
  ...{ threadsBase: THREADS_BASE, threadWords: THREAD_WORDS, state: T_STATE, thread: T_THREAD_ID, maxThreads: MAX_THREADS },
  ...{ applied: T_APPLIED, snapSeq: H_SNAP_SEQ, snapMutex: H_SNAP_MUTEX, head: H_HEAD },
}

const workers = new Workers()
afterEach(() => workers.terminate())

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1))
}

describe('a snapshot whose encode outlasted a ring pass', () => {
  it('is followed by one that covers the head, though writes stop: a thread that attaches afterwards loads the state', async () => {
    const db = workers.database({ logBytes: 1 << 16, lockTimeoutMs: 60_000 })
    db.createTable('t').insert({ id: 1, n: 0 })
    db.createTable('u').insert({ id: 1, n: 0 })
    const flags = new Int32Array(new SharedArrayBuffer(16))
    const pos = new Float64Array(new SharedArrayBuffer(8))
    const data = { db: db.handle(), flags, pos, words }
    const encoder = workers.spawn('snapshot-outlasted', { ...data, role: 'encoder' })
    const writer = workers.spawn('snapshot-outlasted', { ...data, role: 'writer' })
    let ended = false
    for (const w of [encoder, writer]) void w.result.finally(() => (ended = true))
    // The writer moved the head past the encoder's snapshot and found the mutex held (or a worker
    // ended without getting there: the expectations below say which): let the encoder go on.
    await until(() => Atomics.load(flags, 2) === 1 || ended)
    Atomics.store(flags, 1, 1)
    Atomics.notify(flags, 1)
    const [encoded, wrote] = await workers.results([encoder, writer])
    expect(encoded.paused).toBe(true)
    expect(wrote.found).toBe(true)
    const mem = SharedMemory.open(db.handle().buffers)
    expect(mem.snapshotPos).toBeGreaterThanOrEqual(mem.head)
    // A thread that attaches now rebuilds from the snapshot (a short lock timeout: it would wait for one in vain).
    const fresh = workers.track(Database.attach({ ...db.handle(), lockTimeoutMs: 2_000 }))
    expect(fresh.getTable('t').get(1)).toEqual({ id: 1, n: encoded.updates })
    expect(fresh.getTable('u').get(1)).toEqual({ id: 1, n: wrote.updates })
  })
})
