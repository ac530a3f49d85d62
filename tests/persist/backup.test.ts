import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { BackupManager, Database, InvalidStateError } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'
import { FORMATS, backupFiles, tempDir } from './support'
import { SRC, spawnModule } from '../support/child'

afterEach(() => {
  vi.useRealTimers()
})

const quiet = () => ({ warn: vi.fn(), error: vi.fn() })

function shop(): Database {
  const db = new Database()
  db.createTable('products', { primaryKey: 'sku', indexes: [{ field: 'price', type: 'sorted' }] }).insert([
    { sku: 'A', price: 10, added: new Date(0) },
    { sku: 'B', price: 20, stock: 5n },
  ])
  db.createTable('orders').insert({ sku: 'A', qty: 1 })
  return db
}

describe.each(FORMATS)('BackupManager (%s)', (format) => {
  it('creates its directory on the first backup, which is always full', async () => {
    const dir = join(tempDir(), 'nested', 'backups')
    const backups = new BackupManager(shop(), dir, { format, incremental: true })
    expect(existsSync(dir)).toBe(false)
    const first = await backups.backupNow()
    expect(first).toMatchObject({ kind: 'full', sequence: 1, count: 3 })
    expect(backupFiles(dir)).toEqual([`full-000000000001.${format === 'json' ? 'json' : 'bin'}`])
    await backups.stop()
  })

  it('writes deltas of the committed changes, nothing when nothing changed, a full after maxDeltasBeforeFull', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true, maxDeltasBeforeFull: 2 })
    await backups.backupNow()
    expect(await backups.backupNow()).toBeNull()
    db.getTable('orders').insert({ sku: 'B', qty: 2 })
    db.transaction(() => {
      db.getTable('products').update({ price: 11 }, { sku: 'A' })
      db.getTable('orders').delete({ id: 1 })
    })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta', sequence: 2, count: 3 })
    expect(backups.deltasSinceFull).toBe(1)
    db.getTable('orders').insert({ sku: 'A', qty: 9 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta', sequence: 3 })
    db.getTable('orders').insert({ sku: 'A', qty: 10 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'full', sequence: 4 })
    expect(backups.deltasSinceFull).toBe(0)
    await backups.stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('restores the full backup plus its deltas: records, key counters, schema changes, sequences', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true, maxDeltasBeforeFull: 100 })
    await backups.backupFull()
    const orders = db.getTable('orders')
    orders.insert({ sku: 'B', qty: 1 })
    orders.delete({ id: 2 })
    await backups.backupDelta()
    const reviews = db.createTable('reviews', { schema: { text: 'string' }, indexes: [{ field: 'text' }] })
    reviews.insert({ text: 'great' })
    orders.createIndex('sku')
    db.getTable('products').dropIndex('price')
    db.sequence('invoice', { format: 'INV-{000}' }).next()
    db.createTable('scratch').insert({ x: 1 })
    db.dropTable('scratch')
    await backups.backupNow()
    await backups.stop()
    const back = BackupManager.restore(dir)
    expect(snapshot(back)).toEqual(snapshot(db))
    expect(back.getTable('orders').insert({ sku: 'C', qty: 3 })).toBe(orders.insert({ sku: 'C', qty: 3 }))
    expect(back.sequence('invoice', { format: 'INV-{000}' }).next()).toBe('INV-002')
    expectDictDBError(() => back.getTable('reviews').insert({ text: 1 }), 'SchemaValidationError')
  })

  it('keeps the newest `keep` generations and every delta they need', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true, maxDeltasBeforeFull: 2, keep: 2 })
    for (let i = 0; i < 9; i++) {
      db.getTable('orders').insert({ qty: i })
      await backups.backupNow()
    }
    await backups.stop()
    // 1 full, 2 deltas, 4 full, 5, 6, 7 full, 8, 9: keep generations 4 and 7.
    expect(backupFiles(dir).map((f) => f.slice(0, -(format === 'json' ? 5 : 4)))).toEqual([
      'delta-000000000005',
      'delta-000000000006',
      'delta-000000000008',
      'delta-000000000009',
      'full-000000000004',
      'full-000000000007',
    ])
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('continues the sequence numbers of a directory, starting with a full backup', async () => {
    const db = shop()
    const dir = tempDir()
    const first = new BackupManager(db, dir, { format, incremental: true })
    await first.backupNow()
    db.getTable('orders').insert({ qty: 2 })
    await first.backupNow()
    await first.stop()
    const second = new BackupManager(db, dir, { format, incremental: true })
    db.getTable('orders').insert({ qty: 3 })
    expect(await second.backupNow()).toMatchObject({ kind: 'full', sequence: 3 })
    await second.stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })
})

describe('BackupManager options and modes', () => {
  it('in full mode, backupNow writes a full backup every time and backupDelta is refused', async () => {
    const dir = tempDir()
    const backups = new BackupManager(shop(), dir)
    expect(await backups.backupNow()).toMatchObject({ kind: 'full', sequence: 1 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'full', sequence: 2 })
    await expect(backups.backupDelta()).rejects.toThrow(InvalidStateError)
    await backups.stop()
  })

  it('after stop(), the next backup is full (it no longer follows the commits)', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    await backups.stop()
    db.getTable('orders').insert({ qty: 5 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'full', sequence: 2 })
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('checks its options', () => {
    const db = new Database()
    expectDictDBError(() => new BackupManager(db, tempDir(), { intervalMS: 5 } as never), 'InvalidArgumentError', /intervalMs/)
    expectDictDBError(() => new BackupManager(db, tempDir(), { keep: 0 }), 'InvalidArgumentError', /keep/)
    expectDictDBError(() => new BackupManager(db, tempDir(), { minIntervalMs: -1 }), 'InvalidArgumentError', /minIntervalMs/)
    expectDictDBError(() => new BackupManager(db, tempDir(), { format: 'xml' as never }), 'InvalidArgumentError', /format/)
    expectDictDBError(() => new BackupManager(db, ''), 'InvalidArgumentError', /dir/)
  })

  it('refuses a logger without warn() and error(), in the constructor and in restore (not later, when something fails)', async () => {
    const db = new Database()
    db.createTable('t').insert({ a: 1 })
    const dir = tempDir()
    expectDictDBError(() => new BackupManager(db, dir, { logger: 5 as never }), 'InvalidArgumentError', /logger/, /warn/)
    const backups = new BackupManager(db, dir)
    await backups.backupNow()
    await backups.stop()
    expectDictDBError(() => BackupManager.restore(dir, { logger: { error() {} } as never }), 'InvalidArgumentError', /logger/, /warn/)
  })

  it('re-attaches Standard Schema validators on restore', async () => {
    const db = new Database()
    const schema = z.object({ id: z.number().optional(), name: z.string() })
    db.createTable('people', { schema }).insert({ name: 'Ada' })
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    db.createTable('pets', { schema: z.object({ id: z.number().optional(), kind: z.string() }) }).insert({ kind: 'cat' })
    await backups.backupNow()
    await backups.stop()
    const back = BackupManager.restore(dir, { schemas: { people: schema, pets: z.object({ id: z.number().optional(), kind: z.string() }) }, logger: quiet() })
    expectDictDBError(() => back.getTable('pets').insert({ kind: 7 }), 'SchemaValidationError')
    expectDictDBError(() => back.getTable('people').insert({ name: 7 }), 'SchemaValidationError')
  })
})

describe('automatic backups', () => {
  it('notifyChange() backs up at once, then at most once per minIntervalMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] })
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true, minIntervalMs: 1000 })
    backups.notifyChange()
    await vi.advanceTimersByTimeAsync(0)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(1)
    for (let i = 0; i < 5; i++) {
      db.getTable('orders').insert({ qty: i })
      backups.notifyChange()
    }
    await vi.advanceTimersByTimeAsync(500)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(600)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(2)
    await backups.stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('start() backs up every intervalMs while something changed; stop() ends it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] })
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { intervalMs: 60_000, incremental: true })
    backups.start()
    expect(backups.started).toBe(true)
    await vi.advanceTimersByTimeAsync(60_000)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(60_000)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(1) // nothing changed
    db.getTable('orders').insert({ qty: 1 })
    await vi.advanceTimersByTimeAsync(60_000)
    await backups.flush()
    expect(backupFiles(dir)).toHaveLength(2)
    await backups.stop()
    db.getTable('orders').insert({ qty: 2 })
    await vi.advanceTimersByTimeAsync(120_000)
    expect(backupFiles(dir)).toHaveLength(2)
  })

  it('its timers do not keep the process alive', async () => {
    const script = `
      const { Database, BackupManager } = await import(${JSON.stringify(SRC)})
      const b = new BackupManager(new Database(), ${JSON.stringify(tempDir())}, { intervalMs: 3_600_000 })
      b.start(); b.notifyChange(); b.notifyChange()
      console.log('started')`
    // A process kept alive by the hour-long timer is killed at the time limit (status null).
    const result = spawnModule(script)
    expect(result.stdout).toContain('started')
    expect(result.status).toBe(0)
  })
})
