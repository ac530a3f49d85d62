import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

/** A shared database on the smallest ring, table `t` of `n` records `{ id, score: 0 }`. */
function smallRing(n: number) {
  const db = new Database({ shared: true, logBytes: 1 << 16 })
  open.push(db)
  const t = db.createTable('t')
  for (let i = 1; i <= n; i++) t.insert({ id: i, score: 0 })
  return { db, t }
}

/** A replica attached now (rebuilt from the latest snapshot, then caught up), as its records. */
function attachedRecords(db: Database) {
  const other = Database.attach(db.handle())
  open.push(other)
  return other.getTable('t').select({ orderBy: 'id' })
}

describe('snapshots a writer takes one after another (its encoding buffer kept between them)', () => {
  it('each hold the state they were taken at: a replica attached after many ring passes has every record as the writer has it', () => {
    const { db, t } = smallRing(50)
    // ~48 bytes per update on a 64 KiB ring: 20,000 updates wrap it ~15 times, a snapshot each.
    for (let i = 0; i < 20_000; i++) t.update({ score: increment(1 + (i % 7)) }, { id: 1 + (i % 50) })
    // Then only records 1-10, for several passes: the log keeps no entry of records 11-50 (each
    // entry holds the new values), so the attached replica has them from the last snapshot alone.
    for (let i = 0; i < 5_000; i++) t.update({ score: increment(1) }, { id: 1 + (i % 10) })
    expect(attachedRecords(db)).toEqual(t.select({ orderBy: 'id' }))
  })

  it('hold the state they were taken at after the tables shrank (a smaller snapshot after a larger one)', () => {
    const { db, t } = smallRing(400)
    for (let i = 0; i < 5_000; i++) t.update({ score: increment(1) }, { id: 1 + (i % 400) })
    t.delete(t.field('id').gt(10))
    for (let i = 0; i < 5_000; i++) t.update({ score: increment(2) }, { id: 1 + (i % 10) })
    expect(attachedRecords(db)).toEqual(t.select({ orderBy: 'id' }))
  })
})
