import { afterEach, describe, expect, it } from 'vitest'
import { Database, increment } from '../../src'
import type { StandardSchemaV1 } from '../../src'

// Two replicas in this thread stand for two threads. A write of the other replica made while
// this one plans (from its validator) reaches the log between this one's planning and its append.
const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

/** A validator that runs `meanwhile` once, the next time it validates. */
function validator(): { schema: StandardSchemaV1; then: (fn: () => void) => void } {
  let meanwhile: (() => void) | null = null
  const schema: StandardSchemaV1 = {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => {
        const fn = meanwhile
        meanwhile = null
        fn?.()
        return { value }
      },
    },
  }
  return { schema, then: (fn) => (meanwhile = fn) }
}

function pair() {
  const v = validator()
  const db = new Database({ shared: true })
  db.createTable('t', { schema: v.schema }).insert([
    { id: 1, n: 0 },
    { id: 2, n: 0 },
  ])
  const other = Database.attach(db.handle(), { schemas: { t: v.schema } })
  open.push(other, db)
  return { t: db.getTable('t'), o: other.getTable('t'), other, then: v.then }
}

describe('an update by key appended after another replica updated other records', () => {
  it('leaves both updates on both replicas', () => {
    const { t, o, then } = pair()
    then(() => t.update({ n: increment(10) }, { id: 2 }))
    o.update({ n: increment(1) }, { id: 1 })
    then(() => t.update({ n: increment(10) }, { id: 2 }))
    o.update({ n: increment(1) }, { id: 1 })
    expect(o.select({ copy: false })).toEqual([{ id: 1, n: 2 }, { id: 2, n: 20 }])
    expect(t.select()).toEqual([{ id: 1, n: 2 }, { id: 2, n: 20 }])
    expect(o.select({ copy: false }).every((r) => Object.isFrozen(r))).toBe(true)
  })

  it('is planned again when the other replica updated its record meanwhile', () => {
    const { t, o, then } = pair()
    then(() => {
      t.update({ n: increment(10) }, { id: 2 })
      t.update({ n: increment(10) }, { id: 1 })
    })
    o.update({ n: increment(1) }, { id: 1 })
    expect(o.select()).toEqual([{ id: 1, n: 11 }, { id: 2, n: 10 }])
    expect(t.select()).toEqual([{ id: 1, n: 11 }, { id: 2, n: 10 }])
  })

  it('tells a listener of the other replica\'s update before its own', () => {
    const { t, o, other, then } = pair()
    const heard: string[] = []
    other.onCommit((c) => {
      for (const op of c.ops) if (op.type === 'record') heard.push(`${String(op.key)}:${JSON.stringify(op.after)}`)
    })
    then(() => t.update({ n: increment(10) }, { id: 2 }))
    o.update({ n: increment(1) }, { id: 1 })
    expect(heard).toEqual(['2:{"id":2,"n":10}', '1:{"id":1,"n":1}'])
  })
})
