// Transactions across real worker_threads: opposite lock orders, deadlock detection and retry,
// declared tables, and a transfer storm — nothing lost, nothing applied twice, no hang.
import { afterEach, describe, expect, it } from 'vitest'
import type { Commit } from 'dictdb'
import { Workers, sharedInts, type Running } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

interface OppositeResult {
  applied: string[]
  deadlocks: { name: string; code: string; message: string }[]
  runs: number
}

function twoTables(lockTimeoutMs = 5000) {
  const db = workers.database({ lockTimeoutMs })
  db.createTable('a').insert({ id: 1, v: 0 })
  db.createTable('b').insert({ id: 1, v: 0 })
  db.createTable('log')
  return db
}

/** Two workers running the `opposite` fixture, one locking a then b, the other b then a. */
async function opposite(db: ReturnType<typeof twoTables>, options: Record<string, unknown>): Promise<OppositeResult[]> {
  const flags = sharedInts(2)
  const ws: Running[] = [
    workers.spawn('opposite', { db: db.handle(), i: 0, order: ['a', 'b'], flags, ...options }),
    workers.spawn('opposite', { db: db.handle(), i: 1, order: ['b', 'a'], flags, ...options }),
  ]
  await workers.start(ws)
  return workers.results<OppositeResult>(ws)
}

/** Every committed iteration is in `log` exactly once, and a and b moved by exactly that many. */
function expectAppliedExactlyOnce(db: ReturnType<typeof twoTables>, results: OppositeResult[]): void {
  const applied = results.flatMap((r) => r.applied)
  expect(new Set(applied).size).toBe(applied.length)
  expect(db.getTable('log').select().map((r) => r.id)).toEqual(expect.arrayContaining(applied))
  expect(db.getTable('log').count()).toBe(applied.length)
  expect(db.getTable('a').get(1)?.v).toBe(applied.length)
  expect(db.getTable('b').get(1)?.v).toBe(applied.length)
}

describe('opposite lock orders across worker_threads', () => {
  it('with retries: no hang, and every transaction is applied exactly once', async () => {
    const db = twoTables()
    const m = 150
    // Keep going (bounded) until at least one deadlock was retried, so the retry path really ran.
    const results = await opposite(db, { m, maxM: 10 * m, until: 'retry', retries: 20, busyMs: 0.2 })
    for (const r of results) {
      expect(r.deadlocks).toEqual([])
      expect(r.applied.length).toBeGreaterThanOrEqual(m)
    }
    expect(results.reduce((n, r) => n + r.runs, 0)).toBeGreaterThan(results.reduce((n, r) => n + r.applied.length, 0))
    expectAppliedExactlyOnce(db, results)
  })

  it('with retries: 0, a DeadlockError surfaces, and the loser left nothing behind', async () => {
    const db = twoTables()
    // Wide window between the two updates; stop as soon as one DeadlockError surfaced (bounded).
    const results = await opposite(db, { m: 0, maxM: 2000, retries: 0, busyMs: 1, until: 'deadlock' })
    const deadlocks = results.flatMap((r) => r.deadlocks)
    expect(deadlocks.length).toBeGreaterThanOrEqual(1)
    for (const d of deadlocks) {
      expect(d.name).toBe('DeadlockError')
      expect(d.message).toMatch(/Deadlock on table `[ab]`/)
    }
    expectAppliedExactlyOnce(db, results)
  })

  it('declared tables, listed in opposite orders, never raise DeadlockError even with retries: 0', async () => {
    const db = twoTables()
    const m = 300
    const results = await opposite(db, { m, maxM: m, retries: 0, declare: true, busyMs: 0.05 })
    for (const r of results) {
      expect(r.deadlocks).toEqual([])
      expect(r.applied).toHaveLength(m)
      expect(r.runs).toBe(m) // never retried either
    }
    expectAppliedExactlyOnce(db, results)
  })
})

describe('a transfer storm across worker_threads', () => {
  interface Transfer {
    id: string
    from: 'a' | 'b'
    to: 'a' | 'b'
    amount: number
  }

  it('conserves the total, applies every transfer exactly once and never lets a balance go negative', async () => {
    const db = workers.database()
    const START = 300
    db.createTable('a').insert({ id: 1, balance: START })
    db.createTable('b').insert({ id: 1, balance: START })
    const transfers = db.createTable('transfers')
    // Every committed balance, as the main thread's replica replays the workers' commits.
    const balances: number[] = []
    db.onCommit((commit: Commit) => {
      for (const op of commit.ops) if (op.type === 'record' && op.table !== 'transfers') balances.push(op.after?.balance as number)
    })
    const ws = workers.spawnMany('transfer', 3, (i) => ({ db: db.handle(), i, seed: 1000 + i, count: 150, busyMs: 0.05 }))
    await workers.start(ws)
    const results: { applied: Transfer[]; refused: number; runs: number }[] = await workers.results(ws)

    const applied = results.flatMap((r) => r.applied)
    const moved = (from: string, to: string) => applied.filter((t) => t.from === from && t.to === to).reduce((n, t) => n + t.amount, 0)
    const a = db.getTable('a').get(1)?.balance
    const b = db.getTable('b').get(1)?.balance
    expect((a as number) + (b as number)).toBe(2 * START)
    expect(a).toBe(START - moved('a', 'b') + moved('b', 'a'))
    expect(transfers.count()).toBe(applied.length)
    expect(transfers.select({ orderBy: 'id' })).toEqual([...applied].sort((x, y) => (x.id < y.id ? -1 : 1)))
    expect(applied.length + results.reduce((n, r) => n + r.refused, 0)).toBe(3 * 150)
    expect(balances.length).toBe(2 * applied.length)
    expect(Math.min(...balances)).toBeGreaterThanOrEqual(0)
  })
})
