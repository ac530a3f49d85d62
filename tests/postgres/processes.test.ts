// Real processes (child_process), not threads: four of them write one connected database.
import { afterEach, describe, expect, it } from 'vitest'
import { connectedClosedAfterEach, freshName } from './support'
import { acks, startClients, stopClients, waitForLine, type Client, type ClientEnv } from './processes'
import { pgUrl } from './server'
import { checkLinearizable, type Operation } from '../workers/linearizability'

const N = 4
const M = 100
// Only a hang reaches this: idle, each test takes 2-8 s, but four processes' start-up and 400
// round trips to the server can take several times longer on a loaded 2-core machine (a 30 s
// limit failed under load). The clients themselves are killed after startClients' limit.
const HANG_MS = 600_000
// The clients' and this process's `lockTimeoutMs`, which also bounds connecting: the default 5 s
// is a speed limit under load (at load 8-23, clients could not connect in time). A hang guard.
const LOCK_MS = 120_000

describe('a connected database written by four processes', { timeout: HANG_MS }, () => {
  const connected = connectedClosedAfterEach()
  const open = (options: { name: string }) => connected({ ...options, lockTimeoutMs: LOCK_MS })

  // Every client a test started is killed (if still running) and awaited after it, whether the
  // test passed, failed or timed out (even while the clients were starting): none outlives it.
  const running: Client[] = []
  afterEach(() => stopClients(running.splice(0)))
  async function start(n: number, job: string, count: number, env: ClientEnv): Promise<Client[]> {
    return startClients(n, job, count, { lockTimeoutMs: LOCK_MS, ...env }, undefined, running)
  }

  it('sequence.next() gives 400 distinct, gap-free ids', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const clients = await start(N, 'sequence', M, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    const ids = acks(clients) as string[]
    expect(ids.length).toBe(N * M)
    expect([...ids].sort()).toEqual(Array.from({ length: N * M }, (_, i) => `ID-${String(i + 1).padStart(4, '0')}`))
  })

  it('increment(1) 4 × 100 times leaves exactly 400', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const clients = await start(N, 'increment', M, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    const db = await open({ name: env.name })
    expect(db.counter('hits').value).toBe(N * M)
  })

  // The v3 path (PostgreSQL before 17, or DICTDB_PG_COMMIT=v3) holds the head through the fsync;
  // every other test here runs on the default path (early lock release on the tests' server).
  it('on the v3 commit path, increment(1) 4 × 100 times leaves exactly 400', async () => {
    const env = { url: pgUrl(), name: freshName(), commitPath: 'v3' as const }
    const clients = await start(N, 'increment', M, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    process.env.DICTDB_PG_COMMIT = 'v3'
    const db = await open({ name: env.name }).finally(() => delete process.env.DICTDB_PG_COMMIT)
    expect(db.counter('hits').value).toBe(N * M)
  })

  it('a transfer storm between ledger accounts conserves the balances and audits ok', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const db = await open({ name: env.name })
    await db.transactionAsync(() => {
      const ledger = db.ledger({ currency: 'EUR', scale: 2 })
      for (const id of ['a', 'b', 'c', 'd']) (ledger.openAccount(id), ledger.deposit(id, 10_000n))
    })
    const clients = await start(N, 'transfer', M, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    for (const c of clients) expect(c.lines.at(-1)).toMatchObject({ done: true, audit: { ok: true } })
    await db.sync()
    const ledger = db.ledger()
    expect(['a', 'b', 'c', 'd'].reduce((n, id) => n + ledger.balance(id), 0n)).toBe(40_000n)
    expect(ledger.audit().ok).toBe(true)
  })

  it('concurrent getOrCreate from four processes creates one record', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const db = await open({ name: env.name })
    await db.transactionAsync(() => db.createTable('users', { indexes: [{ field: 'email', unique: true }] }))
    const clients = await start(N, 'getOrCreate', 1, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    expect(new Set(acks(clients)).size).toBe(1)
    await db.sync()
    expect(db.getTable('users').count()).toBe(1)
  })

  it('a process SIGKILLed in a loop of transactions holds nothing: the others finish, its acknowledged work is kept', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const db = await open({ name: env.name })
    await db.transactionAsync(() => db.createTable('steps'))
    const clients = await start(3, 'steps', 150, env)
    const [victim, ...others] = clients as [(typeof clients)[0], ...typeof clients]
    await waitForLine(victim, () => victim.lines.filter((l) => 'ack' in l).length >= 20)
    victim.child.kill('SIGKILL')
    expect(await victim.exited).toBe('SIGKILL')
    expect(await Promise.all(others.map((c) => c.exited))).toEqual([0, 0])
    for (const c of others) expect(c.lines.filter((l) => 'rejected' in l)).toEqual([])
    await db.sync()
    const rowsOf = (pid: number | undefined) => db.getTable('steps').count({ process: pid })
    for (const c of others) expect(rowsOf(c.child.pid)).toBe(150)
    const acked = victim.lines.filter((l) => 'ack' in l).length
    expect([acked, acked + 1]).toContain(rowsOf(victim.child.pid))
  })

  it('histories of three processes reading, writing and incrementing registers are linearizable', async () => {
    const env = { url: pgUrl(), name: freshName() }
    const db = await open({ name: env.name })
    await db.transactionAsync(() => db.createTable('regs').insert([{ id: 'k0', v: 0 }, { id: 'k1', v: 0 }, { id: 'k2', v: 0 }]))
    const clients = await start(3, 'registers', 120, env)
    expect(await Promise.all(clients.map((c) => c.exited))).toEqual([0, 0, 0])
    const history = clients.flatMap((c) => c.lines.filter((l) => 'op' in l).map((l) => l.op as Operation))
    expect(history.length).toBe(360)
    const verdict = checkLinearizable(history)
    expect(verdict.ok, JSON.stringify(verdict.history?.slice(0, 20))).toBe(true)
  })
})
