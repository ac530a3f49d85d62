import { describe, expect, it, vi } from 'vitest'
import { Database, LockTimeoutError } from '../src/index'
import { deferred, expectDictDBError, snapshot, thrown } from './support/helpers'

function setup(lockTimeoutMs = 5000) {
  const db = new Database({ lockTimeoutMs })
  const t = db.createTable('items')
  const other = db.createTable('other')
  t.insert([{ id: 1, n: 1 }, { id: 2, n: 2 }])
  return { db, t, other }
}

/** Holds `mode` on the table's lock across an await until `release` is called. */
function hold(t: ReturnType<typeof setup>['t'], mode: 'read' | 'write', inside?: () => void) {
  const entered = deferred()
  const released = deferred()
  const done = t.lock[mode](async () => {
    entered.resolve()
    await released.promise
    inside?.()
  })
  return { entered: entered.promise, release: () => released.resolve(), done }
}

describe('table operations while an async holder has the write lock', () => {
  // "At once", without a clock: the lock timeout is far longer than the test's own timeout, so a
  // call that waited for it would fail the test; the message says it did not wait. (Timing:
  // bench/timing.mjs.)
  it('a synchronous select from outside throws LockTimeoutError at once', async () => {
    const { t } = setup(10 * 60_000)
    const h = hold(t, 'write')
    await h.entered
    const error = expectDictDBError(() => t.select(), 'LockTimeoutError', /`items`/, /synchronous call cannot wait/)
    expect(error).toBeInstanceOf(LockTimeoutError)
    h.release()
    await h.done
  })

  it('a synchronous insert, update or delete from outside throws at once and changes nothing', async () => {
    const { db, t } = setup(10 * 60_000)
    const before = snapshot(db)
    const h = hold(t, 'write')
    await h.entered
    for (const call of [() => t.insert({ n: 3 }), () => t.update({ n: 0 }), () => t.delete({ id: 1 }), () => t.upsert({ id: 1, n: 9 }), () => t.getOrCreate({ n: 7 })]) {
      expect(thrown(call)).toBeInstanceOf(LockTimeoutError)
      expect((thrown(call) as Error).message).toMatch(/synchronous call cannot wait/)
    }
    h.release()
    await h.done
    expect(snapshot(db)).toEqual(before)
  })

  it('other reads from outside (get, count, all, aggregate) throw at once too', async () => {
    const { t } = setup()
    const h = hold(t, 'write')
    await h.entered
    for (const call of [() => t.get(1), () => t.count(), () => t.all(), () => t.aggregate({})]) {
      expect(thrown(call)).toBeInstanceOf(LockTimeoutError)
    }
    h.release()
    await h.done
  })

  it('a transaction from outside touching the table throws and rolls back its other writes', async () => {
    const { db, t, other } = setup()
    const before = snapshot(db)
    const h = hold(t, 'write')
    await h.entered
    expect(
      thrown(() =>
        db.transaction(() => {
          other.insert({ x: 1 })
          t.insert({ n: 3 })
        }),
      ),
    ).toBeInstanceOf(LockTimeoutError)
    expect(other.count()).toBe(0)
    h.release()
    await h.done
    expect(snapshot(db)).toEqual(before)
  })

  it('a transaction declaring the locked table throws before running its body', async () => {
    const { db, t } = setup()
    const h = hold(t, 'write')
    await h.entered
    let ran = false
    expect(thrown(() => db.transaction(() => (ran = true), { tables: ['items'] }))).toBeInstanceOf(LockTimeoutError)
    expect(ran).toBe(false)
    h.release()
    await h.done
  })

  it('another table stays usable', async () => {
    const { t, other } = setup()
    const h = hold(t, 'write')
    await h.entered
    expect(other.insert({ x: 1 })).toBe(1)
    h.release()
    await h.done
  })

  it('calls inside the holder callback work (re-entrant), across awaits', async () => {
    const { db, t } = setup()
    const result = await t.lock.write(async () => {
      const n = t.count()
      await new Promise((r) => setTimeout(r, 1))
      t.insert({ id: 3, n: n + 1 })
      await Promise.resolve()
      t.update({ n: 10 }, { id: 1 })
      const rows = t.select({ orderBy: '-n' })
      db.transaction(() => t.delete({ id: 2 }))
      return rows.length
    })
    expect(result).toBe(3)
    expect(t.all()).toEqual([{ id: 1, n: 10 }, { id: 3, n: 3 }])
  })

  it('the table works normally again once the holder is done', async () => {
    const { t } = setup()
    const h = hold(t, 'write')
    await h.entered
    expect(thrown(() => t.insert({}))).toBeInstanceOf(LockTimeoutError)
    h.release()
    await h.done
    expect(t.insert({})).toBe(3)
    expect(t.lock.locked).toBe(false)
  })

  it('an async writer from outside waits for the holder and then sees its writes', async () => {
    const { t } = setup()
    const h = hold(t, 'write', () => t.insert({ id: 'holder' }))
    await h.entered
    const waiting = t.lock.write(() => t.get('holder'))
    h.release()
    expect(await waiting).toEqual({ id: 'holder' })
  })

  it('an async acquisition from outside gives up after lockTimeoutMs with LockTimeoutError', async () => {
    const { t } = setup(50)
    const h = hold(t, 'write')
    await h.entered
    const start = performance.now()
    await expect(t.lock.read(() => t.count())).rejects.toBeInstanceOf(LockTimeoutError)
    expect(performance.now() - start).toBeGreaterThanOrEqual(40)
    h.release()
    await h.done
  })

  it('without lockTimeoutMs, an async acquisition gives up after 5000 ms', async () => {
    vi.useFakeTimers()
    try {
      const db = new Database()
      const t = db.createTable('items')
      const h = hold(t, 'write')
      await h.entered
      let outcome: unknown = 'pending'
      void t.lock.read(() => 1).then(
        (v) => (outcome = v),
        (e: unknown) => (outcome = e),
      )
      await vi.advanceTimersByTimeAsync(4999)
      expect(outcome).toBe('pending')
      await vi.advanceTimersByTimeAsync(1)
      expect(outcome).toBeInstanceOf(LockTimeoutError)
      h.release()
      await h.done
    } finally {
      vi.useRealTimers()
    }
  })

  it('a holder that throws releases the lock and its error reaches the caller', async () => {
    const { t } = setup()
    await expect(
      t.lock.write(async () => {
        await Promise.resolve()
        throw new Error('holder failed')
      }),
    ).rejects.toThrow('holder failed')
    expect(t.insert({})).toBe(3)
  })
})

describe('table operations while async holders have the read lock', () => {
  it('synchronous reads from outside are let in', async () => {
    const { t } = setup()
    const h = hold(t, 'read')
    await h.entered
    expect(t.count()).toBe(2)
    expect(t.select({ where: { id: 1 } })).toEqual([{ id: 1, n: 1 }])
    expect(t.get(2)).toEqual({ id: 2, n: 2 })
    h.release()
    await h.done
  })

  it('a synchronous write from outside throws at once and changes nothing', async () => {
    const { db, t } = setup()
    const before = snapshot(db)
    const h = hold(t, 'read')
    await h.entered
    expect(thrown(() => t.insert({}))).toBeInstanceOf(LockTimeoutError)
    expect(thrown(() => t.update({ n: 0 }))).toBeInstanceOf(LockTimeoutError)
    h.release()
    await h.done
    expect(snapshot(db)).toEqual(before)
  })

  it('many async readers hold together', async () => {
    const { t } = setup()
    const a = hold(t, 'read')
    const b = hold(t, 'read')
    await Promise.all([a.entered, b.entered])
    a.release()
    b.release()
    await Promise.all([a.done, b.done])
  })

  it('reads inside a read holder work', async () => {
    const { t } = setup()
    expect(await t.lock.read(async () => (await Promise.resolve(), t.count()))).toBe(2)
  })
})
