import { describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError, InvalidStateError, Sequence } from '../../src/index'
import { expectDictDBError, thrown, tick } from '../support/helpers'

/** A clock the test moves by hand. */
function clock(start: Date) {
  const c = { at: start, now: () => c.at }
  return c
}

describe('sequence formats', () => {
  it('formats PRO-{YYYY}-{0000} with the year and the zero-padded number', () => {
    const db = new Database()
    const seq = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: () => new Date(2026, 5, 15) })
    expect(seq).toBeInstanceOf(Sequence)
    expect([seq.next(), seq.next(), seq.next()]).toEqual(['PRO-2026-0001', 'PRO-2026-0002', 'PRO-2026-0003'])
  })

  it('pads to at least the width: CUST9999 is followed by CUST10000', () => {
    const db = new Database()
    const seq = db.sequence('customer', { format: 'CUST{0000}' })
    let last = ''
    for (let i = 0; i < 9999; i++) last = seq.next()
    expect(last).toBe('CUST9999')
    expect(seq.next()).toBe('CUST10000')
  })

  it('shows the month and the day with {MM} and {DD}, and the bare number with {0}', () => {
    const db = new Database()
    const seq = db.sequence('invoice', { format: 'INV/{YYYY}{MM}{DD}/{0}', reset: 'daily', now: () => new Date(2026, 2, 7, 9, 30) })
    expect(seq.next()).toBe('INV/20260307/1')
  })

  it('without a format, ids are the bare numbers as strings', () => {
    const db = new Database()
    const seq = db.sequence('plain')
    expect([seq.next(), seq.next()]).toEqual(['1', '2'])
  })

  it('a format function receives the number and the date', () => {
    const db = new Database()
    const seen: [number, Date][] = []
    const at = new Date(2026, 0, 2)
    const seq = db.sequence('fn', {
      format: (n, date) => {
        seen.push([n, date])
        return `F-${date.getFullYear()}-${n * 10}`
      },
      now: () => at,
    })
    expect(seq.next()).toBe('F-2026-10')
    expect(seen).toEqual([[1, at]])
  })

  it.each([
    ['X{0000}{0}', /exactly once/],
    ['X-{YYYY}', /exactly once/],
    ['X{000', /brace/],
    ['X}{0}', /brace/],
    ['X{HH}{0}', /Unknown placeholder \{HH\}/],
  ])('refuses the template %s with a clear error', (format, message) => {
    const db = new Database()
    expectDictDBError(() => db.sequence('bad', { format }), 'InvalidArgumentError', message)
    expect(db.hasTable('_sequences') ? db.getTable('_sequences').count() : 0).toBe(0)
  })

  it('refuses a reset whose period the template does not show, since ids would repeat', () => {
    const db = new Database()
    expectDictDBError(() => db.sequence('p', { format: 'PRO-{0000}', reset: 'yearly' }), 'InvalidArgumentError', /\{YYYY\}/)
    expectDictDBError(() => db.sequence('p', { format: 'PRO-{YYYY}-{0000}', reset: 'monthly' }), 'InvalidArgumentError', /\{MM\}/)
    expectDictDBError(() => db.sequence('p', { format: 'PRO-{YYYY}{MM}-{0000}', reset: 'daily' }), 'InvalidArgumentError', /\{DD\}/)
  })

  it('refuses a format function that returns something other than a non-empty string, giving the number back', () => {
    const db = new Database()
    let bad = true
    const seq = db.sequence('fn', { format: (n) => (bad ? (42 as unknown as string) : `ok${n}`) })
    expectDictDBError(() => seq.next(), 'InvalidArgumentError', /non-empty string/)
    bad = false
    expect(seq.next()).toBe('ok1')
  })
})

describe('sequence resets', () => {
  it('yearly: restarts at 1 when the year changes', () => {
    const db = new Database()
    const c = clock(new Date(2026, 11, 31, 23, 59))
    const seq = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: c.now })
    seq.next()
    expect(seq.next()).toBe('PRO-2026-0002')
    c.at = new Date(2027, 0, 1, 0, 0)
    expect(seq.next()).toBe('PRO-2027-0001')
  })

  it('monthly and daily: restart when the month or the day changes', () => {
    const db = new Database()
    const c = clock(new Date(2026, 0, 31))
    const monthly = db.sequence('m', { format: '{YYYY}{MM}-{00}', reset: 'monthly', now: c.now })
    const daily = db.sequence('d', { format: '{YYYY}{MM}{DD}-{00}', reset: 'daily', now: c.now })
    expect([monthly.next(), monthly.next(), daily.next(), daily.next()]).toEqual(['202601-01', '202601-02', '20260131-01', '20260131-02'])
    c.at = new Date(2026, 1, 1)
    expect([monthly.next(), daily.next()]).toEqual(['202602-01', '20260201-01'])
  })

  it("never: keeps counting across years (the default)", () => {
    const db = new Database()
    const c = clock(new Date(2026, 11, 31))
    const seq = db.sequence('p', { format: 'P-{YYYY}-{0000}', now: c.now })
    seq.next()
    c.at = new Date(2027, 0, 1)
    expect(seq.next()).toBe('P-2027-0002')
  })

  it('a clock that steps back does not reopen a period already numbered', () => {
    const db = new Database()
    const c = clock(new Date(2027, 0, 1, 0, 0, 5))
    const seq = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: c.now })
    expect(seq.next()).toBe('PRO-2027-0001')
    c.at = new Date(2026, 11, 31, 23, 59, 59)
    expect(seq.next()).toBe('PRO-2027-0002')
  })

  it('current is the last number taken, peek the id next() would give, without taking it', () => {
    const db = new Database()
    const seq = db.sequence('c', { format: 'C{000}' })
    expect(seq.current).toBe(0)
    expect(seq.peek()).toBe('C001')
    expect(seq.peek()).toBe('C001')
    seq.next()
    expect(seq.current).toBe(1)
    expect(seq.peek()).toBe('C002')
  })

  it('refuses a clock that does not return a valid Date', () => {
    const db = new Database()
    const seq = db.sequence('c', { now: () => new Date(NaN) })
    expectDictDBError(() => seq.next(), 'InvalidArgumentError', /valid Date/)
  })
})

describe('sequences in transactions', () => {
  it('a number taken in a transaction that rolls back is given back: no gap', () => {
    const db = new Database()
    const seq = db.sequence('p', { format: 'P{0000}' })
    seq.next()
    expect(() =>
      db.transaction(() => {
        expect(seq.next()).toBe('P0002')
        throw new Error('validation failed')
      }),
    ).toThrow('validation failed')
    expect(seq.next()).toBe('P0002')
  })

  it('a number taken in a committed transaction stays taken, with the records written beside it', () => {
    const db = new Database()
    const seq = db.sequence('p', { format: 'P{0000}' })
    const props = db.createTable('properties')
    db.transaction(() => props.insert({ id: seq.next(), city: 'Lyon' }))
    expect(props.get('P0001')).toEqual({ id: 'P0001', city: 'Lyon' })
    expect(seq.current).toBe(1)
  })

  it('100 concurrent async callers that await between steps get 1…100, each once', async () => {
    const db = new Database()
    const seq = db.sequence('p', { format: '{000}' })
    const ids = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        await tick()
        if (i % 2 === 0) await tick()
        const id = seq.next()
        await tick()
        return id
      }),
    )
    expect([...ids].sort()).toEqual(Array.from({ length: 100 }, (_, i) => String(i + 1).padStart(3, '0')))
  })
})

describe('sequence options are stored', () => {
  it('opening again without options gives the stored numbering', () => {
    const db = new Database()
    db.sequence('p', { format: 'P{0000}' }).next()
    expect(db.sequence('p').next()).toBe('P0002')
  })

  it('opening again with other options is a clear error that changes nothing', () => {
    const db = new Database()
    db.sequence('p', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly' }).next()
    const error = expectDictDBError(() => db.sequence('p', { format: 'P{0000}' }), 'InvalidArgumentError', /already exists with other options/, /PRO-\{YYYY\}-\{0000\}/)
    expect(error.key).toBe('p')
    expectDictDBError(() => db.sequence('p', { reset: 'never' }), 'InvalidArgumentError', /reset 'yearly'/)
    expect(db.sequence('p', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly' }).current).toBe(1)
  })

  it('a format function is recognised by its source text: the same function again is fine, another is refused', () => {
    const db = new Database()
    const format = (n: number) => `F${n}`
    db.sequence('f', { format }).next()
    expect(db.sequence('f', { format }).next()).toBe('F2')
    expect(db.sequence('f').next()).toBe('F3')
    expect(thrown(() => db.sequence('f', { format: (n: number) => `G${n}` }))).toBeInstanceOf(InvalidArgumentError)
  })

  it('after a reload, a sequence with a format function must be given the function again', () => {
    const db = new Database()
    const format = (n: number) => `F${n}`
    db.sequence('f', { format }).next()
    const copy = Database.fromState(db.exportState())
    expectDictDBError(() => copy.sequence('f'), 'InvalidStateError', /format function/)
    expect(copy.sequence('f', { format }).next()).toBe('F2')
  })

  it('lives in the system table _sequences and continues after a reload', () => {
    const db = new Database()
    db.sequence('customer', { format: 'CUST{0000}' }).next()
    expect(db.getTable('_sequences').get('customer')).toMatchObject({ format: 'CUST{0000}', reset: 'never', value: 1 })
    const copy = Database.fromState(db.exportState())
    expect(copy.sequence('customer').next()).toBe('CUST0002')
  })

  it('checks its arguments', () => {
    const db = new Database()
    expectDictDBError(() => db.sequence(''), 'InvalidArgumentError', /non-empty string/)
    expectDictDBError(() => db.sequence('x', { fromat: 'X{0}' } as never), 'InvalidArgumentError', /Did you mean `format`/)
    expectDictDBError(() => db.sequence('x', { reset: 'weekly' as never }), 'InvalidArgumentError', /'yearly', 'monthly', 'daily' or 'never'/)
    expectDictDBError(() => db.sequence('x', { format: 12 as never }), 'InvalidArgumentError', /template string/)
    expectDictDBError(() => db.sequence('x', { now: 'today' as never }), 'InvalidArgumentError', /`now`/)
    expect(db.hasTable('_sequences')).toBe(false)
  })

  it('a closed database refuses to open a sequence', () => {
    const db = new Database()
    db.close()
    expect(thrown(() => db.sequence('x'))).toBeInstanceOf(InvalidStateError)
  })
})
