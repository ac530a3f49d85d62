import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'
import type { Commit } from '../../src'

// Two replicas in this thread stand for two threads: each reads its own replica.
const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function pair(): { db: Database; other: Database } {
  const db = new Database({ shared: true })
  db.createTable('t').insert([
    { id: 1, n: 0, tags: ['a'] },
    { id: 2, n: 0, tags: ['b'] },
  ])
  const other = Database.attach(db.handle())
  open.push(other, db)
  return { db, other }
}

/** Updates by key (appended as patches), with a table created among them: a catch-up of every kind of entry. */
function writeMixed(db: Database): void {
  const t = db.getTable('t')
  t.update({ n: increment(1) }, { id: 1 })
  t.update({ tags: ['a', 'c'] }, { id: 2 })
  db.createTable('u').insert({ id: 1 })
  t.update({ n: increment(5) }, { id: 2 })
  t.update({ n: increment(1) }, { id: 1 })
}

describe('a replica catching up on updates by key', () => {
  it('ends with the records the writer holds, deep-frozen, when nobody listens', () => {
    const { db, other } = pair()
    const t = db.getTable('t')
    t.update({ n: increment(1) }, { id: 1 })
    t.update({ tags: ['a', 'c'] }, { id: 2 })
    t.update({ n: increment(5) }, { id: 2 })
    const rows = other.getTable('t').select({ copy: false })
    expect(rows).toEqual(t.select())
    expect(rows.every((r) => Object.isFrozen(r) && Object.isFrozen(r.tags))).toBe(true)
  })

  it('ends with the records and tables the writer holds when a table was created among the updates', () => {
    const { db, other } = pair()
    writeMixed(db)
    expect(other.getTable('t').select()).toEqual(db.getTable('t').select())
    expect(other.getTable('u').get(1)).toEqual({ id: 1 })
  })

  it('catching up one update at a time ends with the records the writer holds', () => {
    const { db, other } = pair()
    const t = db.getTable('t')
    const seen: unknown[] = []
    for (let i = 0; i < 5; i++) {
      t.update({ n: increment(1) }, { id: 1 + (i % 2) })
      seen.push(other.getTable('t').get(1 + (i % 2))?.n)
    }
    expect(seen).toEqual([1, 1, 2, 2, 3])
  })

  it('tells a listener every change of the catch-up, once and in order', () => {
    const { db, other } = pair()
    const heard: string[] = []
    other.onCommit((commit: Commit) => {
      for (const op of commit.ops) heard.push(op.type === 'record' ? `${op.table}:${String(op.key)}:${JSON.stringify(op.after)}` : `${op.type}:${op.table}`)
    })
    writeMixed(db)
    other.getTable('t').get(1)
    expect(heard).toEqual([
      't:1:{"id":1,"n":1,"tags":["a"]}',
      't:2:{"id":2,"n":0,"tags":["a","c"]}',
      'createTable:u',
      'u:1:{"id":1}',
      't:2:{"id":2,"n":5,"tags":["a","c"]}',
      't:1:{"id":1,"n":2,"tags":["a"]}',
    ])
  })

  it('with a listener, holds and tells the record each update of a flat record made, field for field and in order', () => {
    const db = new Database({ shared: true })
    db.createTable('f').insert([
      { id: 1, a: 0, b: 'x', c: true },
      { id: 2, a: 0, b: 'y', c: false },
    ])
    const other = Database.attach(db.handle())
    open.push(other, db)
    const heard: string[] = []
    other.onCommit((commit: Commit) => {
      for (const op of commit.ops) if (op.type === 'record') heard.push(JSON.stringify(op.after))
    })
    const f = db.getTable('f')
    f.update({ c: true, a: increment(2) }, { id: 2 })
    f.update({ b: 'z' }, { id: 1 })
    f.update({ a: increment(1), b: 'w' }, { id: 2 })
    const rows = other.getTable('f').select({ copy: false })
    expect(rows.map((r) => JSON.stringify(r))).toEqual(['{"id":1,"a":0,"b":"z","c":true}', '{"id":2,"a":3,"b":"w","c":true}'])
    expect(rows.every((r) => Object.isFrozen(r))).toBe(true)
    expect(heard).toEqual(['{"id":2,"a":2,"b":"y","c":true}', '{"id":1,"a":0,"b":"z","c":true}', '{"id":2,"a":3,"b":"w","c":true}'])
  })

  it('applies updates of a table dropped and created again under its name to the new table', () => {
    const { db, other } = pair()
    const seen = other.getTable('t')
    db.getTable('t').update({ n: increment(1) }, { id: 1 })
    expect(seen.get(1)?.n).toBe(1)
    db.dropTable('t')
    db.createTable('t').insert({ id: 1, n: 10 })
    // Caught up on the drop and the new table alone: the updates below come in later catch-ups.
    expect(other.getTable('t').get(1)?.n).toBe(10)
    db.getTable('t').update({ n: increment(1) }, { id: 1 })
    db.getTable('t').update({ n: increment(1) }, { id: 1 })
    expect(other.getTable('t').get(1)).toEqual({ id: 1, n: 12 })
  })

  it('moves a record in the index of each field that a run of updates by key sets, as the fields set change from one update to the next', () => {
    const db = new Database({ shared: true })
    db.createTable('s', { indexes: [{ field: 'a' }, { field: 'b', type: 'sorted' }] }).insert([
      { id: 1, a: 0, b: 0, c: 0 },
      { id: 2, a: 0, b: 0, c: 0 },
    ])
    const other = Database.attach(db.handle())
    open.push(other, db)
    const s = db.getTable('s')
    const mirror = other.getTable('s')
    s.update({ a: 1 }, { id: 1 })
    s.update({ b: 2 }, { id: 1 })
    s.update({ c: 3 }, { id: 2 })
    s.update({ b: 4 }, { id: 2 })
    s.update({ a: 5, b: 5 }, { id: 2 })
    expect(mirror.select({ where: { a: 1 } }).map((r) => r.id)).toEqual([1])
    expect(mirror.select({ where: { b: 2 } }).map((r) => r.id)).toEqual([1])
    expect(mirror.select({ where: { a: 5 } }).map((r) => r.id)).toEqual([2])
    expect(mirror.select({ where: { b: 5 } }).map((r) => r.id)).toEqual([2])
    expect(mirror.select({ where: { b: 4 } })).toEqual([])
  })

  it('moves a record in an index added between two updates by key of the same field', () => {
    const db = new Database({ shared: true })
    db.createTable('s').insert([{ id: 1, a: 0, c: 0 }])
    const other = Database.attach(db.handle())
    open.push(other, db)
    const s = db.getTable('s')
    s.update({ a: 1 }, { id: 1 })
    expect(other.getTable('s').get(1)?.a).toBe(1)
    db.getTable('s').createIndex('a')
    // Caught up on the new index alone: the update below comes in a later catch-up.
    expect(other.getTable('s').select({ where: { a: 1 } }).map((r) => r.id)).toEqual([1])
    s.update({ a: 2 }, { id: 1 })
    expect(other.getTable('s').select({ where: { a: 2 } }).map((r) => r.id)).toEqual([1])
    expect(other.getTable('s').select({ where: { a: 1 } })).toEqual([])
  })
})

