// One piece of application code written with transactionAsync and sync: the suites run it,
// unchanged, on a local, a worker-shared and a connected (PostgreSQL) database.
import { expect, it } from 'vitest'
import { DictDBError, increment, type Database } from '../../src/index'

/** Creates a property with the next id and counts it: the seed 000 story in a few lines. */
export async function createProperty(db: Database, title: string): Promise<string> {
  return db.transactionAsync(() => {
    const properties = db.hasTable('properties') ? db.getTable('properties') : db.createTable('properties')
    const id = db.sequence('property', { format: 'PRO-{0000}' }).next()
    properties.insert({ id, title })
    db.counter('properties').add(1)
    return id
  })
}

/**
 * The suite every mode runs. `open` gives a fresh database and, for `other`, a second view of the
 * same database (another thread's or process's replica; the same one for a local database).
 */
export function portableSuite(open: () => Promise<{ db: Database; other: Database }>): void {
  it('transactionAsync resolves with the result of its function once committed', async () => {
    const { db } = await open()
    await expect(createProperty(db, 'Villa')).resolves.toBe('PRO-0001')
    await expect(createProperty(db, 'Flat')).resolves.toBe('PRO-0002')
    expect(db.getTable('properties').count()).toBe(2)
  })

  it('transactionAsync rejects with the error of its function and applies none of its changes', async () => {
    const { db } = await open()
    await createProperty(db, 'Villa')
    const failing = db.transactionAsync(() => {
      db.getTable('properties').update({ title: 'Changed' }, { id: 'PRO-0001' })
      throw new Error('refused')
    })
    await expect(failing).rejects.toThrow('refused')
    expect(db.getTable('properties').get('PRO-0001')).toMatchObject({ title: 'Villa' })
  })

  it('transactionAsync rejects an async function with InvalidStateError', async () => {
    const { db } = await open()
    // @ts-expect-error: an async fn is refused at compile time too
    const error = await db.transactionAsync(async () => 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DictDBError)
    expect((error as DictDBError).code).toBe('InvalidStateError')
  })

  it('after sync another replica reads every acknowledged write', async () => {
    const { db, other } = await open()
    await createProperty(db, 'Villa')
    await db.transactionAsync(() => db.getTable('properties').update({ views: increment(1) }, { id: 'PRO-0001' }))
    await other.sync()
    expect(other.getTable('properties').get('PRO-0001')).toMatchObject({ title: 'Villa', views: 1 })
    expect(other.counter('properties').value).toBe(1)
  })

  it('writes from two replicas interleave into one gap-free sequence', async () => {
    const { db, other } = await open()
    const ids = await Promise.all([createProperty(db, 'a'), createProperty(other, 'b'), createProperty(db, 'c'), createProperty(other, 'd')])
    expect([...ids].sort()).toEqual(['PRO-0001', 'PRO-0002', 'PRO-0003', 'PRO-0004'])
    await db.sync()
    expect(db.getTable('properties').count()).toBe(4)
    expect(db.counter('properties').value).toBe(4)
  })

  it('onCommit listeners see each commit made through transactionAsync once', async () => {
    const { db } = await open()
    const seen: number[] = []
    db.onCommit(({ ops }) => seen.push(ops.length))
    await createProperty(db, 'Villa')
    expect(seen.length).toBe(1)
  })
}
