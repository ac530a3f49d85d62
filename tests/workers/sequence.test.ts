// Sequences from several real worker_threads: distinct, gap-free numbers (needs `db.sequence`,
// src/helpers/sequence.ts).
import { afterEach, describe, expect, it } from 'vitest'
import { Workers } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('sequences across worker_threads', () => {
  const N = 4
  const M = 150

  it('N workers × M next() (and the main thread) get distinct, gap-free numbers', async () => {
    const db = workers.database()
    expect(typeof db.sequence, 'db.sequence (src/helpers/sequence.ts) has not landed').toBe('function')
    const ws = workers.spawnMany('sequence', N, (i) => ({ db: db.handle(), i, name: 'order', format: 'ORD{0000}', m: M }))
    await workers.start(ws)
    const seq = db.sequence('order', { format: 'ORD{0000}' })
    const mine = Array.from({ length: M }, () => seq.next())
    const results: { taken: string[] }[] = await workers.results(ws)

    const all = [...mine, ...results.flatMap((r) => r.taken)]
    expect(all).toHaveLength((N + 1) * M)
    for (const id of all) expect(id).toMatch(/^ORD\d{4,}$/)
    const numbers = all.map((id) => Number(id.slice(3))).sort((a, b) => a - b)
    expect(numbers).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
    // Each thread's own numbers increase.
    for (const taken of [mine, ...results.map((r) => r.taken)]) {
      const ns = taken.map((id) => Number(id.slice(3)))
      expect([...ns].sort((a, b) => a - b)).toEqual(ns)
    }
    expect(seq.current).toBe(all.length)
  })

  it('numbers taken in transactions that roll back are given back: still no gap', async () => {
    const db = workers.database()
    expect(typeof db.sequence, 'db.sequence (src/helpers/sequence.ts) has not landed').toBe('function')
    const ws = workers.spawnMany('sequence', N, (i) => ({ db: db.handle(), i, name: 'invoice', m: M / 3, rollbackEvery: 5 }))
    await workers.start(ws)
    const results: { taken: string[]; givenBack: number }[] = await workers.results(ws)
    expect(results.every((r) => r.givenBack > 0)).toBe(true)
    const numbers = results.flatMap((r) => r.taken).map(Number).sort((a, b) => a - b)
    expect(numbers).toEqual(Array.from({ length: (N * M) / 3 }, (_, i) => i + 1))
    expect(db.sequence('invoice').current).toBe(numbers.length)
  })
})
