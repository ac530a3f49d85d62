import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BackupManager, Database, InvalidArgumentError, RecordNotFoundError, count, type Commit } from '../../src/index'
import { thrown } from '../support/helpers'

const T0 = 1_800_000_000_000

beforeEach(() => {
  vi.useFakeTimers({ now: T0, toFake: ['Date', 'setTimeout', 'clearTimeout'] })
})
afterEach(() => {
  vi.useRealTimers()
})

function sessions(ttl: { ms: number } | { field: string } = { ms: 1000 }) {
  const db = new Database()
  return { db, table: db.createTable('sessions', { ttl }) }
}

const ids = (rows: Array<{ id?: unknown }>) => rows.map((r) => r.id)

describe('createTable ttl option', () => {
  it('refuses an option that is not { ms } or { field }', () => {
    const db = new Database()
    for (const ttl of [{}, { ms: 0 }, { ms: -5 }, { ms: '10' }, { ms: Infinity }, { field: '' }, { seconds: 5 }, 'soon']) {
      expect(thrown(() => db.createTable('t', { ttl: ttl as never }))).toBeInstanceOf(InvalidArgumentError)
    }
    expect(db.listTables()).toEqual([])
  })

  it('refuses the primary key as the expiry field', () => {
    const db = new Database()
    expect(thrown(() => db.createTable('t', { ttl: { field: 'id' } }))).toBeInstanceOf(InvalidArgumentError)
  })

  it('refuses an expiry field a type-string schema does not declare', () => {
    const db = new Database()
    expect(thrown(() => db.createTable('t', { schema: { name: 'string' }, ttl: { ms: 10 } }))).toBeInstanceOf(InvalidArgumentError)
    db.createTable('u', { schema: { name: 'string', expiresAt: { type: 'number', optional: true } }, ttl: { ms: 10 } }).insert({ name: 'x' })
  })
})

describe('ttl: { ms }', () => {
  it('stamps the expiry time into expiresAt at insert, unless the record gives one', () => {
    const { table } = sessions({ ms: 1000 })
    table.insert({ id: 'a' })
    table.insert({ id: 'b', expiresAt: T0 + 50 })
    expect(table.select()).toEqual([
      { id: 'a', expiresAt: T0 + 1000 },
      { id: 'b', expiresAt: T0 + 50 },
    ])
  })

  it('keeps the expiry through an update that does not change it', () => {
    const { table } = sessions({ ms: 1000 })
    table.insert({ id: 'a', user: 1 })
    vi.setSystemTime(T0 + 500)
    table.update({ user: 2 }, { id: 'a' })
    vi.setSystemTime(T0 + 1000)
    expect(table.get('a')).toBeUndefined()
  })
})

describe('expired records are invisible to every read at once', () => {
  function expiredSetup() {
    const { db, table } = sessions({ field: 'until' })
    table.createIndex('user', { unique: true })
    table.insert([
      { id: 1, user: 'ada', until: T0 + 100 },
      { id: 2, user: 'alan', until: new Date(T0 + 200) },
      { id: 3, user: 'grace', until: null },
    ])
    vi.setSystemTime(T0 + 150)
    return { db, table }
  }

  it('select, count, get, copy and aggregate skip a record past its time, before any sweep', () => {
    const { table } = expiredSetup()
    expect(ids(table.select())).toEqual([2, 3])
    expect(ids(table.select({ where: { user: 'ada' } }))).toEqual([])
    expect(table.count()).toBe(2)
    expect(table.get(1)).toBeUndefined()
    expect([...table.copy().keys()]).toEqual([2, 3])
    expect(table.aggregate({ n: count() })).toEqual({ n: 2 })
  })

  it('a Date expiry works like epoch milliseconds', () => {
    const { table } = expiredSetup()
    vi.setSystemTime(T0 + 200)
    expect(ids(table.select())).toEqual([3])
  })

  it('update and delete do not touch an expired record', () => {
    const { table } = expiredSetup()
    expect(thrown(() => table.update({ user: 'x' }, { id: 1 }))).toBeInstanceOf(RecordNotFoundError)
    expect(thrown(() => table.delete({ user: 'ada' }))).toBeInstanceOf(RecordNotFoundError)
  })

  it('an insert with the key or a unique value of an expired record replaces it', () => {
    const { table } = expiredSetup()
    table.insert({ id: 1, user: 'ada', until: T0 + 10_000 })
    table.insert({ id: 4, user: 'ada2', until: null })
    expect(table.get(1)).toEqual({ id: 1, user: 'ada', until: T0 + 10_000 })
  })

  it('getOrCreate does not return an expired record', () => {
    const { table } = expiredSetup()
    expect(table.getOrCreate({ id: 1 }, { user: 'new', until: null })).toMatchObject({ created: true, record: { id: 1, user: 'new' } })
  })
})

describe('the TTL sweep', () => {
  it('deletes expired records through the write path, on its timer', async () => {
    const { db, table } = sessions({ ms: 1000 })
    table.insert([{ id: 'a' }, { id: 'b', expiresAt: T0 + 5000 }])
    const commits: Commit[] = []
    db.onCommit((c) => commits.push(c))
    await vi.advanceTimersByTimeAsync(2000)
    expect(commits.flatMap((c) => c.ops)).toMatchObject([{ type: 'record', table: 'sessions', key: 'a', after: undefined }])
    expect(table.select({ copy: false }).map((r) => r.id)).toEqual(['b'])
    db.close()
  })

  it('works in bounded batches: a few runs for many expired records, none skipped', async () => {
    const { db, table } = sessions({ ms: 10 })
    table.insert(Array.from({ length: 2500 }, (_, i) => ({ id: i })))
    const deletesPerCommit: number[] = []
    db.onCommit((c) => deletesPerCommit.push(c.ops.length))
    await vi.advanceTimersByTimeAsync(1000)
    expect(deletesPerCommit[0]).toBeLessThanOrEqual(500)
    await vi.advanceTimersByTimeAsync(100)
    expect(deletesPerCommit.reduce((a, b) => a + b, 0)).toBe(2500)
    expect(table.count()).toBe(0)
    db.close()
  })

  it('a watch sees the expiry as a removal', async () => {
    const { db, table } = sessions({ ms: 1000 })
    table.insert([{ id: 'a' }, { id: 'b', expiresAt: T0 + 60_000 }])
    const removed: unknown[] = []
    const view = table.watch({}, (_rows, diff) => removed.push(...ids(diff.removed)))
    await vi.advanceTimersByTimeAsync(2000)
    expect(removed).toEqual(['a'])
    expect(view.rows).toEqual(table.select({ copy: false }))
    db.close()
  })

  it('a watch drops a record the moment it expires, before the sweep deletes it', async () => {
    const { db, table } = sessions({ field: 'until' })
    table.insert([{ id: 'a', until: T0 + 300 }, { id: 'b', until: T0 + 600 }, { id: 'c', until: null }])
    const calls: unknown[][] = []
    const view = table.watch({ orderBy: 'id', limit: 2 }, (rows) => calls.push(ids(rows)))
    await vi.advanceTimersByTimeAsync(300)
    expect(calls).toEqual([['a', 'b'], ['b', 'c']])
    await vi.advanceTimersByTimeAsync(300)
    expect(calls.at(-1)).toEqual(['c'])
    expect(view.rows).toEqual(table.select({ orderBy: 'id', limit: 2, copy: false }))
    await vi.advanceTimersByTimeAsync(2000) // the sweep deletes a and b: nothing changes in the view
    expect(calls).toHaveLength(3)
    db.close()
  })

  it('stops with the database: a closed database sweeps nothing', async () => {
    const { db, table } = sessions({ ms: 10 })
    table.insert({ id: 'a' })
    db.close()
    await vi.advanceTimersByTimeAsync(5000)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a distinct watch drops a row the moment its last record expires, before the sweep', async () => {
    const { db, table } = sessions({ field: 'until' })
    table.insert([
      { id: 'a', user: 'u1', until: T0 + 300 },
      { id: 'b', user: 'u2', until: T0 + 300 },
      { id: 'c', user: 'u2', until: T0 + 900 },
    ])
    const calls: unknown[][] = []
    const view = table.watch({ columns: ['user'], distinct: true, orderBy: 'user' }, (rows) => calls.push(rows.map((r) => r.user)))
    await vi.advanceTimersByTimeAsync(300)
    expect(calls).toEqual([['u1', 'u2'], ['u2']])
    await vi.advanceTimersByTimeAsync(600)
    expect(calls.at(-1)).toEqual([])
    expect(view.rows).toEqual(table.select({ columns: ['user'], distinct: true, orderBy: 'user', copy: false }))
    db.close()
  })
})

describe('ttl and persistence', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dictdb-ttl-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('an expired record is gone after save and load, and the table keeps its ttl', async () => {
    const { db, table } = sessions({ ms: 5000 })
    table.insert([{ id: 'old' }, { id: 'new', expiresAt: T0 + 60_000 }])
    vi.setSystemTime(T0 + 6000)
    const file = join(dir, 'db.json')
    db.save(file)
    db.close()
    const loaded = Database.load(file)
    const again = loaded.getTable('sessions')
    expect(ids(again.select())).toEqual(['new'])
    expect(again.definition().ttl).toEqual({ field: 'expiresAt', ms: 5000 })
    again.insert({ id: 'fresh' })
    expect(again.get('fresh')).toEqual({ id: 'fresh', expiresAt: T0 + 6000 + 5000 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(loaded.exportState().tables[0]?.records.map((r) => r.id)).toEqual(['new', 'fresh'])
    loaded.close()
  })

  it('save writes no expired record: the file is byte for byte the one of the same table without it', () => {
    for (const format of ['json', 'binary'] as const) {
      const { db, table } = sessions({ ms: 5000 })
      table.insert([{ id: 'old' }, { id: 'new', expiresAt: T0 + 60_000 }])
      const { db: db2, table: table2 } = sessions({ ms: 5000 })
      table2.insert([{ id: 'old' }, { id: 'new', expiresAt: T0 + 60_000 }])
      table2.delete({ id: 'old' })
      vi.setSystemTime(T0 + 6000)
      db.save(join(dir, `a.${format}`), { format })
      db2.save(join(dir, `b.${format}`), { format })
      expect(readFileSync(join(dir, `a.${format}`))).toEqual(readFileSync(join(dir, `b.${format}`)))
      db.close()
      db2.close()
      vi.setSystemTime(T0)
    }
  })

  it('saveAsync writes no expired record either', async () => {
    const { db, table } = sessions({ ms: 5000 })
    table.insert([{ id: 'old' }, { id: 'new', expiresAt: T0 + 60_000 }])
    vi.setSystemTime(T0 + 6000)
    const file = join(dir, 'db.json')
    await db.saveAsync(file)
    db.close()
    expect(readFileSync(file, 'utf8')).not.toContain('"old"')
    const loaded = Database.load(file)
    expect(loaded.exportState().tables[0]?.records.map((r) => r.id)).toEqual(['new'])
    loaded.close()
  })

  it('a backup restores past the sweep: the delta deleting an expired record replays', async () => {
    const { db, table } = sessions({ field: 'until' })
    table.insert([{ id: 'a', until: T0 + 300 }, { id: 'b', until: null }])
    const backups = new BackupManager(db, dir, { incremental: true, intervalMs: 60_000 })
    await backups.backupNow()
    await vi.advanceTimersByTimeAsync(2000) // expires, then the sweep deletes it
    await backups.backupNow()
    await backups.stop()
    db.close()
    const report = BackupManager.restoreWithReport(dir)
    expect(report.lost).toEqual([])
    expect(report.db.exportState().tables[0]?.records.map((r) => r.id)).toEqual(['b'])
    report.db.close()
  })
})

describe('ttl in a shared database', () => {
  it('exactly one sweeper deletes: every expired record once, under one lease owner', async () => {
    const db = new Database({ shared: true, logBytes: 1 << 20 })
    const other = Database.attach(db.handle())
    const table = db.createTable('sessions', { ttl: { ms: 10 } })
    table.insert(Array.from({ length: 1500 }, (_, i) => ({ id: i })))
    other.getTable('sessions') // the attached replica has the table (and its own sweeper)
    const deleted: unknown[] = []
    const owners = new Set<unknown>()
    db.onCommit((c) => {
      for (const op of c.ops) {
        if (op.type !== 'record') continue
        if (op.table === 'sessions' && op.after === undefined) deleted.push(op.key)
        if (op.table === '_ttl_sweeper') owners.add(op.after?.owner)
      }
    })
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(500)
      db.listTables() // catch up: listeners here hear the other handle's commits too
    }
    expect(deleted).toHaveLength(1500)
    expect(new Set(deleted).size).toBe(1500)
    expect(owners.size).toBe(1)
    other.close()
    db.close()
  })
})
