import type { Logger } from '../database'
import { InvalidArgumentError, describe } from '../errors'
import { checkBoolean, checkCount, checkName, checkOptions } from '../options'
import { isStandardSchema, type StandardSchemaV1 } from '../schema'
import { ConnectedDatabase } from './database'
import { PgLog } from './log'
import { shortName } from '../values/describe'

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The PostgreSQL server, e.g. `postgres://user:password@127.0.0.1:5432/app`. */
  url: string
  /** Which dictdb database of that server (default `'default'`): many can share one server. */
  name?: string
  /** How long a write waits for the head lock or a lost server before it rejects (default 5000 ms). */
  lockTimeoutMs?: number
  logger?: Logger
  /** Commit the `transactionAsync` calls of one event-loop turn in one PostgreSQL transaction (default true). */
  groupCommit?: boolean
  /** Take a snapshot every this many log entries, for processes that join (default 1000; 0: never). */
  snapshotEvery?: number
  /** Prefix of the log's tables in PostgreSQL (default `'dictdb_'`). */
  tablePrefix?: string
  /**
   * Standard Schema validators of tables created with one, by table name: a validator cannot
   * go through the log, so each process passes it again (as `Database.attach` does for threads).
   */
  schemas?: Readonly<Record<string, StandardSchemaV1>>
}

/**
 * Opens a connected database: one database across processes and machines, with PostgreSQL as
 * its ordered, durable log and write authority. Each process keeps a replica and reads it at
 * local speed; every write goes through `await db.transactionAsync(fn)`.
 *
 * @example
 * ```ts
 * import { connect } from 'dictdb/postgres'
 * const db = await connect({ url: process.env.DATABASE_URL!, name: 'shop' })
 * const id = await db.transactionAsync(() => db.sequence('property', { format: 'PRO-{YYYY}-{0000}' }).next())
 * await db.sync()
 * await db.close()
 * ```
 */
export async function connect(options: ConnectOptions): Promise<ConnectedDatabase> {
  const opts = checkOptions(options, ['url', 'name', 'lockTimeoutMs', 'logger', 'groupCommit', 'snapshotEvery', 'tablePrefix', 'schemas'], 'connect()')
  if (typeof opts.url !== 'string' || opts.url === '') throw new InvalidArgumentError(`Expected \`url\` to be a PostgreSQL URL, got ${describe(opts.url)}`)
  const lockTimeoutMs = opts.lockTimeoutMs ?? 5000
  if (typeof lockTimeoutMs !== 'number' || !Number.isFinite(lockTimeoutMs) || lockTimeoutMs <= 0) {
    throw new InvalidArgumentError(`Expected \`lockTimeoutMs\` to be a positive finite number, got ${describe(lockTimeoutMs)}`)
  }
  const settings = {
    url: opts.url,
    name: opts.name === undefined ? 'default' : checkName(opts.name, 'name'),
    lockTimeoutMs,
    groupCommit: checkBoolean(opts.groupCommit, 'groupCommit') ?? true,
    snapshotEvery: checkCount(opts.snapshotEvery, 'snapshotEvery') ?? 1000,
    tablePrefix: opts.tablePrefix === undefined ? 'dictdb_' : checkName(opts.tablePrefix, 'tablePrefix'),
  }
  const schemas = checkSchemas(opts.schemas)
  let log: PgLog | undefined
  const dbOptions = opts.logger === undefined ? { lockTimeoutMs } : { lockTimeoutMs, logger: opts.logger }
  const db = ConnectedDatabase.openWith(dbOptions, (parts) => (log = new PgLog(parts, settings)), schemas)
  try {
    await (log as PgLog).open()
  } catch (error) {
    await db.close()
    throw error
  }
  return db
}

/** The `schemas` option: an object of table name → Standard Schema validator. */
function checkSchemas(schemas: unknown): Readonly<Record<string, StandardSchemaV1>> {
  if (schemas === undefined) return {}
  if (typeof schemas !== 'object' || schemas === null || Array.isArray(schemas)) {
    throw new InvalidArgumentError(`Expected \`schemas\` to be an object of table name → Standard Schema validator, got ${describe(schemas)}`)
  }
  for (const [table, schema] of Object.entries(schemas)) {
    if (!isStandardSchema(schema)) {
      throw new InvalidArgumentError(`Expected \`schemas.${shortName(table)}\` to be a Standard Schema validator (type-string schemas go through the log), got ${describe(schema)}`, { table })
    }
  }
  return schemas as Readonly<Record<string, StandardSchemaV1>>
}
