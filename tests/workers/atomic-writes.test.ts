// Atomic single operations from several real worker_threads at once: nothing lost, nothing doubled.
import { afterEach, describe, expect, it } from 'vitest'
import { Workers } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

describe('increments across worker_threads', () => {
  const N = 4
  const M = 400
  const INSERT_EVERY = 10

  function setup() {
    const db = workers.database()
    db.createTable('counters').insert({ id: 1, v: 0 })
    db.createTable('items')
    return db
  }

  it('N workers × M update({ v: increment(1) }) leave exactly N×M', async () => {
    const db = setup()
    const ws = workers.spawnMany('increment', N, (i) => ({ db: db.handle(), i, m: M, insertEvery: INSERT_EVERY }))
    await workers.start(ws)
    await workers.results(ws)
    expect(db.getTable('counters').get(1)).toEqual({ id: 1, v: N * M })
  })

  it("every worker's inserts are visible in the main thread, each under a distinct auto key", async () => {
    const db = setup()
    const ws = workers.spawnMany('increment', N, (i) => ({ db: db.handle(), i, m: M, insertEvery: INSERT_EVERY }))
    await workers.start(ws)
    const keys: number[][] = await workers.results(ws)
    const items = db.getTable('items')
    const all = keys.flat()
    expect(all).toHaveLength(N * (M / INSERT_EVERY))
    // Distinct, and never a gap: 1..total, as in one thread.
    expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1))
    expect(items.count()).toBe(all.length)
    keys.forEach((mine, i) => {
      for (const [j, key] of mine.entries()) expect(items.get(key)).toEqual({ id: key, worker: i, k: j * INSERT_EVERY })
    })
    // The next key in the main thread continues after the workers' keys.
    expect(items.insert({ worker: 'main' })).toBe(all.length + 1)
  })

  it('N workers × M read-modify-write transactions on a declared table lose no update', async () => {
    const db = setup()
    const ws = workers.spawnMany('increment', N, (i) => ({ db: db.handle(), i, m: M / 2, insertEvery: M, mode: 'transaction' }))
    await workers.start(ws)
    await workers.results(ws)
    expect(db.getTable('counters').get(1)?.v).toBe((N * M) / 2)
  })
})

describe('getOrCreate across worker_threads', () => {
  it('4 workers and the main thread racing on the same keys create exactly one record per key', async () => {
    const db = workers.database()
    const users = db.createTable('users')
    const emails = Array.from({ length: 60 }, (_, i) => `user${i}@example.com`)
    // Each thread walks the keys in its own order, so every key is contended at some point.
    const orders = [emails, [...emails].reverse(), rotate(emails, 20), rotate(emails, 40)]
    const ws = orders.map((order, i) => workers.spawn('get-or-create', { db: db.handle(), i, emails: order }))
    await workers.start(ws)
    type Got = { email: string; id: unknown; by: unknown; created: boolean }
    const mine: Got[] = emails.map((email) => {
      const { record, created } = users.getOrCreate({ email }, { by: 'main' })
      return { email, id: record.id, by: record.by, created }
    })
    const theirs: Got[][] = await workers.results(ws)

    expect(users.count()).toBe(emails.length)
    for (const email of emails) {
      const stored = users.select({ where: { email } })
      expect(stored).toHaveLength(1)
      const calls = [...theirs.flat(), ...mine].filter((g) => g.email === email)
      expect(calls).toHaveLength(5)
      // Every caller got the one stored record, and exactly one of them created it.
      for (const call of calls) expect({ id: call.id, by: call.by }).toEqual({ id: stored[0]?.id, by: stored[0]?.by })
      expect(calls.filter((c) => c.created)).toHaveLength(1)
    }
  })
})

describe('counters across worker_threads', () => {
  it('N workers × M counter.add(1) (racing to create it) reach exactly N×M, each value handed out once', async () => {
    const db = workers.database()
    const ws = workers.spawnMany('counter', 4, (i) => ({ db: db.handle(), i, name: 'hits', m: 150 }))
    await workers.start(ws)
    const returned: number[] = (await workers.results<number[]>(ws)).flat()
    expect([...returned].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1))
    expect(db.counter('hits').value).toBe(600)
  })
})

function rotate<T>(list: readonly T[], by: number): T[] {
  return [...list.slice(by), ...list.slice(0, by)]
}
