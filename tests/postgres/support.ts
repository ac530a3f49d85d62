import { randomUUID } from 'node:crypto'
import { afterEach } from 'vitest'
import { connect, type ConnectedDatabase, type ConnectOptions } from '../../src/postgres/index'
import { pgUrl } from './server'

/** A fresh database name on the test server: tests never see each other's data. */
export function freshName(): string {
  return `test-${randomUUID()}`
}

/** A `connect` whose databases are closed after each test of the calling file. */
export function connectedClosedAfterEach(): (options?: Partial<ConnectOptions>) => Promise<ConnectedDatabase> {
  const open: ConnectedDatabase[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()))
  })
  return async (options) => {
    const db = await connect({ url: pgUrl(), name: 'unnamed', ...options })
    open.push(db)
    return db
  }
}
