// A ring of 2 GiB, really wrapped: more than 2 GiB appended in 1 MiB entries. The ring frees
// space a chunk (1/32 of the ring) ahead of what it overwrites; from 2 GiB up, that chunk came
// out negative (an Int32 shift of the ring's size), so the head would stop short of the bytes
// being overwritten and a replica behind would read them as the entries it had not applied yet.
// Here a replica that stopped just before the overwritten bytes reads afterwards, and a new
// thread attaches: both hold exactly the writer's records.
import { afterEach, describe, expect, it } from 'vitest'
import { Database, type Table } from 'dictdb'
import { Workers, memoryOf } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

const MIB = 1 << 20
const RING = 2 ** 31
const RECORDS = 8
// Made once (a string per update would cost an allocation and a copy of 1 MiB each).
const STRINGS = Array.from({ length: 16 }, (_, k) => `${k}:${'x'.repeat(MIB)}`.normalize())

/** Update `i`: record `i % RECORDS` gets `n: i` and a 1 MiB string. */
function update(t: Table<Record<string, unknown>>, i: number): void {
  t.update({ n: i, s: STRINGS[i % STRINGS.length] }, { id: i % RECORDS })
}

/** The records, each string cut to its head (comparing 1 MiB strings is slow to report). */
function summary(records: Array<Record<string, unknown>>): Array<{ id: unknown; n: unknown; head: string; length: number }> {
  return records.map((r) => ({ id: r.id, n: r.n, head: String(r.s).slice(0, 4), length: String(r.s).length }))
}

describe('a shared ring of 2 GiB wrapped by more than 2 GiB of commits', () => {
  it('a replica that stopped just before the overwritten bytes, and a new thread, read every record as written', async () => {
    const db = workers.database({ logBytes: RING })
    const t = db.createTable('t')
    for (let id = 0; id < RECORDS; id++) t.insert({ id, s: '' })
    const behind = workers.track(Database.attach(db.handle()))
    const mem = memoryOf(db)
    let i = 0
    for (; i < 32; i++) update(t, i)
    // Its position: just under a ring from the end of the last append below.
    expect(behind.getTable('t').count()).toBe(RECORDS)
    const stoppedAt = mem.tail
    // Past the ring by 16 MiB: the first entries after `stoppedAt` are overwritten, well within
    // the chunk (64 MiB) that the ring frees ahead.
    for (; mem.tail < stoppedAt + RING + 16 * MIB; i++) {
      update(t, i)
    }
    const expected = summary(t.select())
    // Record `id` last got the latest update `j < i` with `j % RECORDS === id`.
    const last = (id: number) => i - 1 - ((i - 1 - id) % RECORDS)
    expect(expected.map((r) => r.n)).toEqual(Array.from({ length: RECORDS }, (_, id) => last(id)))
    expect(summary(behind.getTable('t').select())).toEqual(expected)
    const fresh = await workers.spawn('read-state', { db: db.handle() }).result
    expect(summary(fresh.t.records)).toEqual(expected)
  }, 600_000)
})
