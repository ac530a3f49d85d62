import { describe, expect, it } from 'vitest'
import { Counter, Database } from '../../src/index'
import { expectDictDBError, tick } from '../support/helpers'

describe('counters', () => {
  it('starts at 0; add returns the new value and value reads it', () => {
    const db = new Database()
    const hits = db.counter('hits')
    expect(hits).toBeInstanceOf(Counter)
    expect(hits.value).toBe(0)
    expect(hits.add(1)).toBe(1)
    expect(hits.add(10)).toBe(11)
    expect(hits.value).toBe(11)
  })

  it('adds 1 by default and accepts negative steps', () => {
    const db = new Database()
    const stock = db.counter('stock')
    stock.add()
    expect(stock.add(-5)).toBe(-4)
  })

  it('two handles on the same name share one value', () => {
    const db = new Database()
    db.counter('hits').add(3)
    expect(db.counter('hits').add(1)).toBe(4)
  })

  it('refuses a step that is not a safe integer, and an overflow, changing nothing', () => {
    const db = new Database()
    const c = db.counter('c')
    c.add(Number.MAX_SAFE_INTEGER - 1)
    expectDictDBError(() => c.add(1.5), 'InvalidArgumentError', /safe integer/)
    expectDictDBError(() => c.add('1' as never), 'InvalidArgumentError', /safe integer/)
    expectDictDBError(() => c.add(2), 'InvalidArgumentError', /safe integer range/)
    expect(c.value).toBe(Number.MAX_SAFE_INTEGER - 1)
  })

  it('an add inside a transaction that rolls back is undone', () => {
    const db = new Database()
    const c = db.counter('c')
    c.add(1)
    expect(() =>
      db.transaction(() => {
        c.add(5)
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect(c.value).toBe(1)
  })

  it('1000 concurrent async adds lose nothing', async () => {
    const db = new Database()
    const c = db.counter('c')
    await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        await tick()
        if (i % 3 === 0) await tick()
        c.add(1)
      }),
    )
    expect(c.value).toBe(1000)
  })

  it('lives in the system table _counters and survives a reload', () => {
    const db = new Database()
    db.counter('hits').add(7)
    expect(db.getTable('_counters').get('hits')).toEqual({ id: 'hits', value: 7 })
    expect(Database.fromState(db.exportState()).counter('hits').add(1)).toBe(8)
  })

  it('checks its name', () => {
    expectDictDBError(() => new Database().counter(''), 'InvalidArgumentError', /non-empty string/)
  })
})
