// Seed 000: users create properties at the same instant; each gets the next PRO-YYYY-NNNN,
// with no duplicate, no gap and no fallback id (examples/000-property-ids.ts tells the story).
import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { tick } from '../support/helpers'

function setup(start = new Date(2026, 5, 15)) {
  const clock = { now: start }
  const db = new Database()
  const properties = db.createTable<{ id: string; owner: string }>('properties')
  const numbers = db.sequence('property', { format: 'PRO-{YYYY}-{0000}', reset: 'yearly', now: () => clock.now })
  /** A request handler that awaits I/O before and after taking its number. */
  async function create(owner: string, valid = true): Promise<string> {
    await tick()
    if (owner.length % 2 === 0) await tick()
    const id = db.transaction(() => {
      const id = numbers.next()
      if (!valid) throw new Error('invalid form')
      properties.insert({ id, owner })
      return id
    })
    await tick()
    return id
  }
  return { clock, properties, numbers, create }
}

const range = (year: number, n: number) => Array.from({ length: n }, (_, i) => `PRO-${year}-${String(i + 1).padStart(4, '0')}`)

describe('seed 000: property ids under concurrency', () => {
  it('100 concurrent creations get PRO-2026-0001 … PRO-2026-0100, each once', async () => {
    const { properties, create } = setup()
    const ids = await Promise.all(Array.from({ length: 100 }, (_, i) => create(`user-${i}`)))
    expect(new Set(ids).size).toBe(100)
    expect([...ids].sort()).toEqual(range(2026, 100))
    expect(properties.count()).toBe(100)
  })

  it('creations that fail after taking a number give it back: still no gap', async () => {
    const { numbers, create } = setup()
    const outcomes = await Promise.allSettled(Array.from({ length: 110 }, (_, i) => create(`user-${i}`, i % 11 !== 5)))
    const ids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
    expect(ids).toHaveLength(100)
    expect([...ids].sort()).toEqual(range(2026, 100))
    expect(numbers.current).toBe(100)
  })

  it('the numbering restarts at 0001 in a new year', async () => {
    const { clock, create } = setup(new Date(2026, 11, 31, 23, 59))
    await Promise.all(Array.from({ length: 3 }, (_, i) => create(`user-${i}`)))
    clock.now = new Date(2027, 0, 1, 0, 1)
    expect(await Promise.all([create('a'), create('bb')])).toEqual(expect.arrayContaining(range(2027, 2)))
  })
})
