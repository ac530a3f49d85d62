import pg from 'pg'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ConnectedDatabase } from '../../src/postgres/index'
import { connectedClosedAfterEach, freshName } from './support'

/** Resolves once `done()` holds; throws after `ms` (the event never came). */
async function until(done: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done()) {
    if (Date.now() > deadline) throw new Error('the awaited event did not happen')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Every statement text sent by the PostgreSQL clients of this test file. */
function statements(): string[] {
  const seen: string[] = []
  const query = pg.Client.prototype.query
  vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text
    if (text !== undefined) seen.push(text)
    return (query as (...a: unknown[]) => unknown).apply(this, args)
  } as typeof query)
  return seen
}

async function increments(db: ConnectedDatabase, id: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await db.transactionAsync(() => db.getTable('t').update({ n: i + 1 }, { id }))
}

describe('following the other processes', () => {
  const open = connectedClosedAfterEach()
  afterEach(() => void vi.restoreAllMocks())

  /** Two processes of one database with records `a` and `b`; the statements sent from now on. */
  async function twoProcesses(): Promise<{ a: ConnectedDatabase; b: ConnectedDatabase; sent: string[] }> {
    const name = freshName()
    const a = await open({ name })
    const b = await open({ name })
    await a.transactionAsync(() => a.createTable('t').insert([{ id: 'a', n: 0 }, { id: 'b', n: 0 }]))
    await b.sync()
    return { a, b, sent: statements() }
  }

  it('a process committing back to back stops listening, and each commit still brings the commits made elsewhere', async () => {
    const { a, b, sent } = await twoProcesses()
    await increments(a, 'a', 3)
    expect(sent.filter((text) => text.startsWith('UNLISTEN'))).toHaveLength(1)
    await increments(b, 'b', 1)
    await increments(a, 'a', 1)
    expect(a.getTable('t').get('b')).toEqual({ id: 'b', n: 1 })
  })

  it('a process that stopped listening listens again once quiet and catches up without sync()', async () => {
    const { a, b, sent } = await twoProcesses()
    await increments(a, 'a', 3)
    await until(() => sent.some((text) => text.startsWith('LISTEN')))
    await increments(b, 'b', 2)
    await until(() => a.getTable('t').get('b')?.n === 2)
    expect(a.getTable('t').all()).toEqual(b.getTable('t').all())
  })
})
