import { named } from '../brand'
import { Database, type DatabaseOptions, type RemoteLog, type RemoteParts } from '../database'
import { InvalidStateError } from '../errors'
import type { StandardSchemaV1 } from '../schema'

/** Set while {@link ConnectedDatabase.openWith} constructs one: `new ConnectedDatabase()` is refused. */
let opening = false

/**
 * A connected database, from {@link connect}: a {@link Database} whose log and write authority
 * are in PostgreSQL. Everything a `Database` does, with writes inside `transactionAsync`; only
 * `close()` differs: it returns a promise, since closing ends a network connection.
 *
 * @example
 * ```ts
 * import { connect, ConnectedDatabase } from 'dictdb/postgres'
 * const db = await connect({ url: process.env.DATABASE_URL!, name: 'shop' })
 * console.log(db instanceof ConnectedDatabase) // true
 * await db.close()
 * ```
 */
export class ConnectedDatabase extends Database {
  /** @internal Opened by `connect()` only. */
  constructor(options: DatabaseOptions) {
    if (!opening) throw new InvalidStateError('A connected database is opened with `await connect({ url })` from dictdb/postgres')
    super(options)
  }

  /** @internal The database `connect()` opens, its log made by `makeLog`. */
  static openWith(options: DatabaseOptions, makeLog: (parts: RemoteParts) => RemoteLog, schemas: Readonly<Record<string, StandardSchemaV1>>): ConnectedDatabase {
    opening = true
    try {
      return ConnectedDatabase.openConnected(options, makeLog, schemas)
    } finally {
      opening = false
    }
  }

  /**
   * Closes the database (every later call on it or its tables throws) once the commits under
   * way are settled; resolves when its PostgreSQL connection is closed. Closing again resolves.
   *
   * @example
   * ```ts
   * import { connect } from 'dictdb/postgres'
   * const db = await connect({ url: process.env.DATABASE_URL!, name: 'shop' })
   * await db.close()
   * ```
   */
  override close(): Promise<void> {
    super.close()
    return this.remoteClosed()
  }
}

named(ConnectedDatabase, 'ConnectedDatabase')
