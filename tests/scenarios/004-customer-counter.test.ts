// Seed 004: customers created at once get CUST0001 … in order of commit, each once; the `$inc`
// counter loses nothing.
import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { tick } from '../support/helpers'
import { runWorkers } from './support'

interface Customer {
  id?: number
  phone: string
  customerNumber: string
}

function setup(db = new Database()) {
  const customers = db.createTable<Customer>('customers', { indexes: [{ field: 'phone', unique: true }, { field: 'customerNumber', unique: true }] })
  const numbers = db.sequence('customer', { format: 'CUST{0000}' })
  const requests = db.counter('requests')
  async function findOrCreate(phone: string): Promise<Customer> {
    requests.add(1)
    await tick()
    if (phone.endsWith('7')) await tick()
    return db.transaction(() => {
      const found = customers.select({ where: { phone } })[0]
      if (found !== undefined) return found
      const customerNumber = numbers.next()
      if (phone.startsWith('x')) throw new Error('invalid phone')
      customers.insert({ phone, customerNumber })
      return { phone, customerNumber }
    })
  }
  return { db, customers, numbers, requests, findOrCreate }
}

const expected = (n: number) => Array.from({ length: n }, (_, i) => `CUST${String(i + 1).padStart(4, '0')}`)
const phones = Array.from({ length: 100 }, (_, i) => `0600${String(i * 13).padStart(6, '0')}`)

describe('seed 004: customer numbers', () => {
  it('100 concurrent creations get CUST0001 … CUST0100, unique, in order of commit', async () => {
    const { customers, findOrCreate } = setup()
    const got = await Promise.all(phones.map(findOrCreate))
    expect(new Set(got.map((c) => c.customerNumber)).size).toBe(100)
    expect(customers.all().map((c) => c.customerNumber)).toEqual(expected(100))
  })

  it('a phone asked for twice at once makes one customer; failed creations give their number back', async () => {
    const { customers, requests, findOrCreate } = setup()
    const asks = [...phones, ...phones.slice(0, 40), 'x1', 'x2']
    const outcomes = await Promise.allSettled(asks.map(findOrCreate))
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(2)
    expect(customers.all().map((c) => c.customerNumber)).toEqual(expected(100))
    for (const o of outcomes) if (o.status === 'fulfilled') expect(customers.select({ where: { phone: o.value.phone } })[0]?.customerNumber).toBe(o.value.customerNumber)
    expect(requests.value).toBe(asks.length)
  })

  it('4 worker_threads and their overlapping phones: one customer per phone, CUST0001 … with no gap', async () => {
    const db = new Database({ shared: true })
    try {
      const { customers, requests } = setup(db)
      const slices = [phones.slice(0, 40), phones.slice(20, 60), phones.slice(50, 90), phones.slice(60, 100).reverse()]
      const results = await runWorkers<{ phone: string; customerNumber: string; created: boolean }[]>(
        db,
        slices.map((p) => ({ task: 'customers', phones: p })),
      )
      const all = results.flat()
      expect(all.filter((r) => r.created)).toHaveLength(100)
      expect(customers.count()).toBe(100)
      expect(customers.all().map((c) => c.customerNumber)).toEqual(expected(100))
      for (const r of all) expect(customers.select({ where: { phone: r.phone } })[0]?.customerNumber).toBe(r.customerNumber)
      expect(requests.value).toBe(all.length)
    } finally {
      db.close()
    }
  })
})
