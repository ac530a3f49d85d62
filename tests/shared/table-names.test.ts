import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'
import type { Commit } from '../../src'

// Two replicas in this thread stand for two threads. A replica keeps the last few table names it
// decoded (codec.ts `tableNames`): these tests write more tables than it keeps, in turn, with names
// of one length that differ only in their last bytes (shorter than a word, a word, and a word and a bit).
const NAMES = ['a', 'b', 'tab1', 'tab2', 'table_1', 'table_2']
const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function tables(): { db: Database; other: Database } {
  const db = new Database({ shared: true })
  for (const name of NAMES) db.createTable(name).insert([{ id: 1, n: 0 }, { id: 2, n: 0 }])
  const other = Database.attach(db.handle())
  open.push(other, db)
  return { db, other }
}

/** Round `r`: table `i` gets `i + 1` added to record 1 + (r % 2). */
function writeRound(db: Database, r: number): void {
  NAMES.forEach((name, i) => db.getTable(name).update({ n: increment(i + 1) }, { id: 1 + (r % 2) }))
}

function contents(db: Database): unknown[] {
  return NAMES.map((name) => db.getTable(name).select())
}

describe('a replica applying updates of more tables than it keeps names of, in turn', () => {
  it('holds each table as the writer does, catching up after each update', () => {
    const { db, other } = tables()
    for (let r = 0; r < 4; r++) {
      NAMES.forEach((name, i) => {
        db.getTable(name).update({ n: increment(i + 1) }, { id: 1 + (r % 2) })
        expect(other.getTable(name).get(1 + (r % 2))).toEqual(db.getTable(name).get(1 + (r % 2)))
      })
    }
    expect(contents(other)).toEqual(contents(db))
  })

  it('holds each table as the writer does, catching up on many entries at once', () => {
    const { db, other } = tables()
    for (let r = 0; r < 4; r++) writeRound(db, r)
    expect(contents(other)).toEqual(contents(db))
  })

  it('tells a listener each change with its own table, in order', () => {
    const { db, other } = tables()
    const heard: string[] = []
    other.onCommit((commit: Commit) => {
      for (const op of commit.ops) if (op.type === 'record') heard.push(`${op.table}:${JSON.stringify(op.after)}`)
    })
    writeRound(db, 0)
    writeRound(db, 1)
    other.getTable('a').get(1)
    expect(heard).toEqual([
      ...NAMES.map((name, i) => `${name}:{"id":1,"n":${i + 1}}`),
      ...NAMES.map((name, i) => `${name}:{"id":2,"n":${i + 1}}`),
    ])
    expect(contents(other)).toEqual(contents(db))
  })
})
