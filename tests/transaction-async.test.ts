import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '../src/index'
import { portableSuite } from './support/portable-code'
import { portableCoreSuite } from './support/portable-core'
import { portableHelpersSuite } from './support/portable-helpers'

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) void db.close()
})

describe('transactionAsync and sync on a local database', () => {
  const openLocal = async () => {
    const db = new Database()
    open.push(db)
    return { db, other: db }
  }
  portableSuite(openLocal)
  portableCoreSuite(openLocal)
  portableHelpersSuite(openLocal)

  it('sync resolves at once when there is nothing to wait for', async () => {
    const db = new Database()
    open.push(db)
    await expect(db.sync()).resolves.toBeUndefined()
  })

  it('transactionAsync rejects bad options instead of throwing', async () => {
    const db = new Database()
    open.push(db)
    const call = db.transactionAsync(() => 1, { retries: -1 })
    await expect(call).rejects.toMatchObject({ code: 'InvalidArgumentError' })
  })

  it('transactionAsync on a closed database rejects with InvalidStateError', async () => {
    const db = new Database()
    void db.close()
    await expect(db.transactionAsync(() => 1)).rejects.toMatchObject({ code: 'InvalidStateError' })
    await expect(db.sync()).rejects.toMatchObject({ code: 'InvalidStateError' })
  })
})

describe('transactionAsync and sync on a worker-shared database', () => {
  // Two replicas in this thread stand for two threads: each reads its own replica.
  const openShared = async () => {
    const db = new Database({ shared: true })
    const other = Database.attach(db.handle())
    open.push(other, db)
    return { db, other }
  }
  portableSuite(openShared)
  portableCoreSuite(openShared)
  portableHelpersSuite(openShared)
})
