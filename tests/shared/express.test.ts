// The express update (src/table/express.ts) steps aside whenever the general path has more to do
// than write one record: each case below would go wrong if the express path ran in it.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Database, LockTimeoutError, RecordNotFoundError, increment } from '../../src'
import { EXPRESS_BEHIND, EXPRESS_DONE, EXPRESS_NOT, Replica } from '../../src/shared/replica'

const open: Database[] = []
afterEach(() => {
  vi.restoreAllMocks()
  for (const db of open.splice(0)) db.close()
})

/**
 * Makes the next express append run `meanwhile` (another replica's write) first: the window
 * between planning the update on this replica and taking the append mutex. Returns the spy.
 */
function beforeNextExpressAppend(meanwhile: () => void) {
  const real = Replica.prototype.appendField
  const spy = vi.spyOn(Replica.prototype, 'appendField')
  spy.mockImplementationOnce(function (this: Replica, ...args: Parameters<Replica['appendField']>) {
    meanwhile()
    return real.apply(this, args)
  })
  return spy
}

/** A shared database whose table `t` holds three flat records, and a second replica of it. */
function world(options: { lockTimeoutMs?: number } = {}, table: Record<string, unknown> = {}) {
  const db = new Database({ shared: true, ...options })
  const t = db.createTable('t', { indexes: [{ field: 'score', type: 'sorted' }], ...table })
  t.insert([1, 2, 3].map((id) => ({ id, city: `c${id}`, score: 0, at: Date.now() + 3_600_000 })))
  const other = Database.attach(db.handle())
  open.push(other, db)
  return { db, t, other, o: other.getTable('t') }
}

describe('the express update', () => {
  it('is part of the transaction it runs in: rolled back with it', () => {
    const { db, t, o } = world()
    expect(() =>
      db.transaction(() => {
        t.update({ score: increment(5) }, { id: 1 })
        throw new Error('abort')
      }),
    ).toThrow('abort')
    expect([t.get(1)?.score, o.get(1)?.score]).toEqual([0, 0])
  })

  it('reaches this thread\'s commit listeners', () => {
    const { db, t } = world()
    const seen: unknown[] = []
    db.onCommit((commit) => seen.push(...commit.ops.map((op) => (op.type === 'record' ? op.after?.score : op.type))))
    t.update({ score: increment(2) }, { id: 1 })
    expect(seen).toEqual([2])
  })

  it('waits for another thread that holds the table\'s lock (here it times out, with nothing written)', () => {
    const { t, o } = world({ lockTimeoutMs: 50 })
    o.lock.writeSync(() => {
      expect(() => t.update({ score: 7 }, { id: 2 })).toThrow(LockTimeoutError)
    })
    expect([t.get(2)?.score, o.get(2)?.score]).toEqual([0, 0])
  })

  it('is refused at once while an async holder of this thread holds the table\'s lock, as a write outside it is', async () => {
    const { t, o } = world()
    let release = () => {}
    const held = t.lock.write(() => new Promise<void>((resolve) => (release = resolve)))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(() => t.update({ score: 4 }, { id: 3 })).toThrow(LockTimeoutError)
    release()
    await held
    expect([t.get(3)?.score, o.get(3)?.score]).toEqual([0, 0])
  })

  it('runs inside this thread\'s own hold of the table\'s lock', () => {
    const { t, o } = world()
    t.lock.writeSync(() => t.update({ score: 3 }, { id: 3 }))
    expect([t.get(3)?.score, o.get(3)?.score]).toEqual([3, 3])
  })

  it('updates from the record as another replica last wrote it', () => {
    const { t, o } = world()
    t.update({ score: increment(1) }, { id: 1 })
    o.update({ score: increment(10) }, { id: 1 })
    t.update({ score: increment(1) }, { id: 1 })
    expect([t.get(1)?.score, o.get(1)?.score]).toEqual([12, 12])
  })

  it('is merged again into the record another replica wrote after it was planned', () => {
    const { t, o } = world()
    const spy = beforeNextExpressAppend(() => o.update({ score: increment(10) }, { id: 1 }))
    t.update({ score: increment(1) }, { id: 1 })
    expect(spy).toHaveBeenCalled()
    expect([t.get(1)?.score, o.get(1)?.score]).toEqual([11, 11])
  })

  it('is appended beside another replica\'s update of another record made after it was planned, and both replicas hold both', () => {
    const { t, o } = world()
    const spy = beforeNextExpressAppend(() => o.update({ score: increment(10) }, { id: 2 }))
    t.update({ score: increment(1) }, { id: 1 })
    expect(spy.mock.results[0]?.value).toBe(EXPRESS_DONE)
    expect([t.get(1)?.score, t.get(2)?.score, o.get(1)?.score, o.get(2)?.score]).toEqual([1, 10, 1, 10])
  })

  it('is appended beside another replica\'s update of the same key in another table', () => {
    const { db, t, other } = world()
    db.createTable('u').insert({ id: 1, score: 0 })
    const spy = beforeNextExpressAppend(() => other.getTable('u').update({ score: 5 }, { id: 1 }))
    t.update({ score: increment(1) }, { id: 1 })
    expect(spy.mock.results[0]?.value).toBe(EXPRESS_DONE)
    expect([t.get(1)?.score, db.getTable('u').get(1)?.score, other.getTable('u').get(1)?.score]).toEqual([1, 5, 5])
  })

  it('copies nothing under the append mutex when more than a few KiB were appended since it caught up: it catches up outside it and tries again', () => {
    const { t, o } = world()
    const spy = beforeNextExpressAppend(() => {
      for (let i = 0; i < 200; i++) o.update({ score: increment(1) }, { id: 2 })
    })
    t.update({ score: increment(1) }, { id: 1 })
    // Its first try, then the other replica's 200 (made within it), then its second try.
    const tries = spy.mock.results.map((r) => r.value)
    expect([tries.length, tries[0], tries.at(-1)]).toEqual([202, EXPRESS_BEHIND, EXPRESS_DONE])
    expect([t.get(1)?.score, t.get(2)?.score, o.get(1)?.score, o.get(2)?.score]).toEqual([1, 200, 1, 200])
  })

  it('steps aside when another replica inserted a record after it was planned, and both replicas hold both', () => {
    const { t, o } = world()
    const spy = beforeNextExpressAppend(() => o.insert({ id: 4, city: 'c4', score: 4, at: 0 }))
    t.update({ score: increment(1) }, { id: 1 })
    expect(spy.mock.results[0]?.value).toBe(EXPRESS_NOT)
    expect([t.get(1)?.score, t.get(4)?.score, o.get(1)?.score, o.get(4)?.score]).toEqual([1, 4, 1, 4])
  })

  it('catches up before it plans: it takes the express path from the record another replica last wrote', () => {
    const { t, o } = world()
    o.update({ score: increment(10) }, { id: 1 })
    const spy = vi.spyOn(Replica.prototype, 'appendField')
    t.update({ score: increment(1) }, { id: 1 })
    expect(spy.mock.results[0]?.value).toBe(EXPRESS_DONE)
    expect([t.get(1)?.score, o.get(1)?.score]).toEqual([11, 11])
  })

  it('throws TableNotFoundError, writing nothing, when another replica dropped the table since this one last caught up', () => {
    const { db, t, other } = world()
    other.dropTable('t')
    expect(() => t.update({ score: increment(1) }, { id: 1 })).toThrow(expect.objectContaining({ code: 'TableNotFoundError' }))
    // The log holds nothing for the dropped table: a replica that attaches now reads it whole.
    const third = Database.attach(db.handle())
    open.push(third)
    expect(third.listTables()).toEqual([])
  })

  it('keeps a unique index that another replica added since this one last caught up', () => {
    const { t, o } = world()
    o.createIndex('city', { type: 'hash', unique: true })
    expect(() => t.update({ city: 'c1' }, { id: 2 })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError' }))
    expect([t.get(2)?.city, o.get(2)?.city]).toEqual(['c2', 'c2'])
  })

  it('throws RecordNotFoundError, writing nothing, when another replica deleted the record after it was planned', () => {
    const { t, o } = world()
    beforeNextExpressAppend(() => o.delete({ id: 1 }))
    expect(() => t.update({ score: increment(1) }, { id: 1 })).toThrow(RecordNotFoundError)
    expect([t.select().length, o.select().length]).toEqual([2, 2])
  })

  it('moves the record in the index of the field it sets, on both replicas', () => {
    const { t, o } = world()
    t.createIndex('city')
    t.update({ city: 'c9' }, { id: 1 })
    for (const x of [t, o]) {
      expect(x.select({ where: { city: 'c1' } })).toEqual([])
      expect(x.select({ where: { city: 'c9' } }).map((r) => r.id)).toEqual([1])
    }
  })

  it('keeps the table\'s schema: a value the validator refuses is refused', () => {
    const { t, o } = world({}, { schema: { city: 'string', score: 'number', at: 'number' } })
    expect(() => t.update({ score: 'high' }, { id: 1 })).toThrow(expect.objectContaining({ code: 'SchemaValidationError' }))
    expect([t.get(1)?.score, o.get(1)?.score]).toEqual([0, 0])
  })

  it('keeps a unique index: a value another record holds is refused', () => {
    const { t } = world()
    t.createIndex('city', { type: 'hash', unique: true })
    expect(() => t.update({ city: 'c1' }, { id: 2 })).toThrow(expect.objectContaining({ code: 'DuplicateKeyError' }))
  })

  it('leaves an expired record alone in a table with ttl: no record matches', () => {
    const { t } = world({}, { ttl: { field: 'at' } })
    t.update({ at: 1 }, { id: 1 })
    expect(() => t.update({ score: 1 }, { id: 1 })).toThrow(expect.objectContaining({ code: 'RecordNotFoundError' }))
  })

  it('refuses an increment of a field that is not a number, as a local table does', () => {
    const { t } = world()
    const local = new Database().createTable('t')
    local.insert({ id: 1, city: 'c1', score: 0 })
    const error = (table: typeof t) => {
      try {
        table.update({ city: increment(1) }, { id: 1 })
      } catch (e) {
        return [(e as Error).name, (e as { code?: string }).code, (e as Error).message]
      }
      return null
    }
    expect(error(t)).toEqual(error(local as never))
    expect(error(t)).not.toBeNull()
  })
})
