// A thread that joins, or has fallen a ring behind, rebuilds from the shared snapshot and then
// catches up from the snapshot's position. A writer that never pauses can wrap a small ring while
// the snapshot decodes, every time: the rebuild must still end, not lose the race until its
// lock timeout.
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from 'dictdb'
import { Workers, sharedInts } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

const KEYS = 20_000

/** A shared database on the smallest ring, with enough records that a snapshot takes a while to decode, and a worker writing to it without pause. */
async function busyDatabase(): Promise<{ db: Database; flags: Int32Array; writer: ReturnType<Workers['spawn']> }> {
  const db = workers.database({ logBytes: 1 << 16, lockTimeoutMs: 3000 })
  const t = db.createTable('t')
  for (let id = 0; id < KEYS; id++) t.insert({ id, v: 0, pad: `record ${id} `.repeat(4) })
  const flags = sharedInts(1)
  const writer = workers.spawn('endless-writer', { db: db.handle(), keys: KEYS, flags })
  await workers.start([writer])
  // Let the writer wrap the ring many times (a snapshot is taken at each wrap).
  await new Promise((resolve) => setTimeout(resolve, 200))
  return { db, flags, writer }
}

describe('a rebuild racing a writer that never pauses', () => {
  it('a worker attaching meanwhile gets the database', async () => {
    const { db, flags, writer } = await busyDatabase()
    const joiner = workers.spawn('attach-only', { db: db.handle() })
    const joined = await joiner.result
    Atomics.store(flags, 0, 1)
    expect(await writer.result).toBeGreaterThan(0)
    expect(joined).toEqual({ ok: true, tables: ['t'] })
  })

  it('the main thread, a ring behind, reads again', async () => {
    const { db, flags, writer } = await busyDatabase()
    const count = db.getTable('t').count()
    Atomics.store(flags, 0, 1)
    const written = await writer.result
    expect(count).toBe(KEYS)
    expect(written).toBeGreaterThan(0)
    // Every increment the writer made is there, once the main thread has caught up.
    const sum = db.getTable('t').select().reduce((s, r) => s + (r.v as number), 0)
    expect(sum).toBe(written)
  })
})
