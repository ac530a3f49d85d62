import { InvalidArgumentError, InvalidStateError, TableNotFoundError, describe } from './errors'
import type { IndexSpec } from './indexes/types'
import { LocalRWLock } from './locks/local-lock'
import { SharedRWLock } from './locks/shared-lock'
import type { RWLock } from './locks/types'
import { checkName, checkOptions } from './options'
import { compileSchema, type Schema, type Validator } from './schema'
import { isSchemaMark } from './shared/codec'
import type { SharedParts } from './shared/connect'
import { schemaOf, ttlOf, type DatabaseState, type RecordChange, type TableDefinition } from './storage/change'
import { TableStore } from './storage/table-store'
import { Table, checkIndexSpec, droppedError, type TableContext } from './table'
import type { Key, Rec } from './values/types'
import { ChangePlanner } from './table-changes'
import type { Transactions } from './txn/transactions'
import { shortName } from './values/describe'
import { adoptRecord } from './values/freeze'
import { ownsKey } from './values/own-field'

const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype', '.', '..'])
// Characters that are unsafe in a file name on some platform, and control characters.
const UNSAFE_NAME = /[/\\:*?"<>|\u0000-\u001f\u007f]/
// Names Windows gives to devices (with any extension), and a final dot or space, which Windows drops.
const UNSAFE_FILE_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$|[. ]$/i

/**
 * A database's tables: their `Table` objects and internal contexts (store, lock, validator), in
 * creation order. The `Database` façade checks arguments and locks; this is where tables are
 * made, removed, restored by a rollback, rebuilt from a snapshot and listed.
 */
export class Catalog {
  readonly #tables = new Map<string, Table<any>>()
  readonly #contexts = new Map<string, TableContext>()
  readonly #tx: Transactions
  readonly #lockTimeoutMs: number
  readonly #schemas: Readonly<Record<string, Schema>>
  /** Set once, right after construction, for a shared database. */
  shared: SharedParts | null = null
  /** Keeps this thread caught up with other threads' commits while a live query needs them. */
  follow: () => () => void = () => () => undefined
  /** How each open live query closes: all of them close with the database. */
  readonly #live = new Set<() => void>()
  /** Told when a table whose records expire appears (created, loaded or replicated here). */
  onExpiringTable: () => void = () => undefined

  constructor(tx: Transactions, lockTimeoutMs: number, schemas: Readonly<Record<string, Schema>>) {
    this.#tx = tx
    this.#lockTimeoutMs = lockTimeoutMs
    this.#schemas = schemas
  }

  table(name: string): Table<any> | undefined {
    return this.#tables.get(name)
  }

  has(name: string): boolean {
    return this.#tables.has(name)
  }

  names(): string[] {
    return [...this.#tables.keys()]
  }

  contexts(): TableContext[] {
    return [...this.#contexts.values()]
  }

  context(name: string): TableContext {
    if (name === this.#lastName) return this.#lastContext as TableContext
    const ctx = this.#contexts.get(name)
    if (ctx === undefined) throw new TableNotFoundError(`No table named \`${shortName(name)}\``, { table: name })
    this.#lastName = name
    this.#lastContext = ctx
    return ctx
  }

  /**
   * The context {@link context} gave last, and its name: a catch-up mostly applies entries of one
   * table in a row, and the Map's lookup by name was ~10 ns of each. Forgotten whenever a table
   * comes or goes, so it is always the catalog's entry for that name.
   */
  #lastName: string | null = null
  #lastContext: TableContext | null = null

  #forgetLast(): void {
    this.#lastName = null
    this.#lastContext = null
  }

  /** Makes a table (in a shared database, with a lock slot of its own unless one is given). */
  add(def: TableDefinition, lockSlot = this.shared?.memory.allocateLock() ?? -1): void {
    const store = new TableStore(def.name, def.primaryKey)
    const ttl = ttlOf(def)
    if (ttl !== undefined) store.ttl = ttl
    for (const spec of def.indexes) store.addIndex(spec as Required<IndexSpec>)
    const ctx: TableContext = {
      name: def.name,
      primaryKey: def.primaryKey,
      store,
      lockSlot,
      lock: this.#makeLock(def.name, lockSlot),
      tx: this.#tx,
      validator: this.#validatorOf(def),
      schema: schemaOf(def),
      dead: null,
      follow: (onClose) => this.#keepLive(onClose),
      replica: this.shared?.replica ?? null,
    }
    this.#contexts.set(def.name, ctx)
    this.#forgetLast()
    this.#tables.set(def.name, new Table(ctx))
    if (ttl !== undefined) this.onExpiringTable()
  }

  remove(name: string): void {
    const ctx = this.#contexts.get(name)
    if (ctx !== undefined) ctx.dead = () => droppedError(name)
    this.#tables.delete(name)
    this.#contexts.delete(name)
    this.#forgetLast()
  }

  /** Puts a dropped table back in its place (a rolled-back drop), so the list reads as before. */
  restore(table: Table<any>, ctx: TableContext, position: number): void {
    ctx.dead = null
    insertAt(this.#tables, position, table.name, table)
    insertAt(this.#contexts, position, table.name, ctx)
    this.#forgetLast()
  }

  /** Marks every table unusable (the database closed). */
  close(dead: () => Error): void {
    for (const ctx of this.#contexts.values()) ctx.dead = dead
    for (const close of [...this.#live]) close()
  }

  /** Registers a live query (followed across threads, closed with the database) until the returned stop. */
  #keepLive(onClose: () => void): () => void {
    const unfollow = this.follow()
    this.#live.add(onClose)
    return () => {
      unfollow()
      this.#live.delete(onClose)
    }
  }

  /**
   * The way in of persisted records (a file, a backup, a snapshot): one change set through the
   * write path — each record checked and frozen in place (it was just decoded: nothing else holds
   * it), its key checked, the schema run, then unique indexes, `TableStore.apply` and the commit.
   * `replace`: a record whose key is stored replaces it (a backup delta's put); otherwise that key,
   * or one repeated in `records`, is a `DuplicateKeyError` (a snapshot's records).
   */
  ingest(name: string, records: readonly unknown[], replace: boolean): void {
    const ctx = this.context(name)
    const planner = new ChangePlanner(name, ctx.primaryKey, ctx.store, ctx.validator)
    this.#tx.withLock(ctx.lock, 'write', () => {
      const keys = new Set<Key>()
      const changes: RecordChange[] = new Array(records.length)
      // Every integer key stored is below `nextAutoKey`: a rising integer key past it is new, and
      // needs no lookup in the table (a random access into a large map; files hold rising keys).
      let fresh = ctx.store.nextAutoKey
      for (let i = 0; i < records.length; i++) {
        const rec = adoptRecord(records[i])
        const key = planner.checkNewKey(rec[ctx.primaryKey])
        const isFresh = typeof key === 'number' && key >= fresh && Number.isInteger(key)
        if (isFresh) fresh = key + 1
        const before = isFresh ? undefined : ctx.store.get(key)
        if ((before !== undefined && !replace) || keys.has(key)) throw planner.duplicate(key)
        keys.add(key)
        changes[i] = { type: 'record', table: name, key, before, after: ctx.validator?.validate(rec) ?? rec }
      }
      this.#tx.write(ctx.store, changes)
    })
  }

  /**
   * Raises a loaded table's auto-key counter to the one its file kept (keys handed out and since
   * deleted are past every stored key, and never reused).
   */
  raiseNextAutoKey(name: string, next: number): void {
    if (!Number.isSafeInteger(next) || next < 1) {
      throw new InvalidArgumentError(`Expected the next auto key of \`${shortName(name)}\` to be a positive integer, got ${describe(next)}`, { table: name })
    }
    const store = this.context(name).store
    store.nextAutoKey = Math.max(store.nextAutoKey, next)
  }

  /**
   * The state of the given tables, as they are (the caller holds whatever locks it needs).
   * `listFor`: the array to list a table's records in, if the caller keeps one (see `Records.list`).
   */
  state(contexts = this.contexts(), withLockSlots = false, listFor?: (table: string) => Rec[] | undefined): DatabaseState {
    return {
      tables: contexts.map((ctx) => ({
        definition: (this.#tables.get(ctx.name) as Table<any>).definition(),
        nextAutoKey: ctx.store.nextAutoKey,
        records: ctx.store.recordList(listFor?.(ctx.name)),
        ...(withLockSlots ? { lockSlot: ctx.lockSlot } : {}),
      })),
    }
  }

  #makeLock(name: string, lockSlot: number): RWLock {
    const shared = this.shared
    if (shared === null) return new LocalRWLock({ name, timeoutMs: this.#lockTimeoutMs })
    return new SharedRWLock({ name, timeoutMs: this.#lockTimeoutMs, memory: shared.memory, lockSlot, threadSlot: shared.replica.slot })
  }

  #validatorOf(def: TableDefinition): Validator | null {
    const given = schemaOf(def)
    if (given === undefined) return null
    const schema = isSchemaMark(given) ? (ownsKey(this.#schemas, def.name) ? this.#schemas[def.name] : undefined) : given
    if (schema === undefined) return missingValidator(def.name)
    return compileSchema(schema, def.name, def.primaryKey)
  }
}

/** The validator of a table whose Standard Schema stayed in another thread or process. */
function missingValidator(table: string): Validator {
  return {
    fields: null,
    validate() {
      const name = shortName(table)
      throw new InvalidStateError(
        `Table \`${name}\` was created with a Standard Schema validator in another thread or process; to write to it here, pass it again: Database.attach(handle, { schemas: { ${name}: validator } }), or connect({ url, schemas: { ${name}: validator } }) for a connected database`,
        { table },
      )
    },
  }
}

/** Sets `key` in `map` at insertion rank `position` (rollbacks undo in reverse, so ranks are exact). */
function insertAt<V>(map: Map<string, V>, position: number, key: string, value: V): void {
  const entries = [...map]
  entries.splice(position, 0, [key, value])
  map.clear()
  for (const [k, v] of entries) map.set(k, v)
}

/** A table name must be usable as a property key and as a file name. */
export function checkTableName(name: unknown): asserts name is string {
  checkName(name, 'name')
  if (RESERVED_NAMES.has(name as string) || UNSAFE_NAME.test(name as string) || UNSAFE_FILE_NAME.test(name as string) || (name as string).length > 200 || !(name as string).isWellFormed()) {
    throw new InvalidArgumentError(
      `Table name ${describe(name)} is not allowed: it must be usable as a property key and as a file name ` +
        '(no `__proto__`, `constructor`, `prototype`, `.`, `..`, path separators, control characters or `:*?"<>|`, ' +
        'no device name such as `con` or `nul`, no final dot or space, no lone surrogate, at most 200 characters)',
    )
  }
}

/** Checks the `indexes` option of `createTable`. */
export function checkIndexList(indexes: unknown): Required<IndexSpec>[] {
  if (indexes === undefined) return []
  if (!Array.isArray(indexes)) throw new InvalidArgumentError(`Expected \`indexes\` to be a list of { field, type?, unique? }, got ${describe(indexes)}`)
  const specs = indexes.map((spec: unknown) => {
    const opts = checkOptions(spec as IndexSpec, ['field', 'type', 'unique'], 'an index definition')
    return checkIndexSpec(opts as IndexSpec)
  })
  const fields = new Set(specs.map((s) => s.field))
  if (fields.size !== specs.length) throw new InvalidArgumentError('`indexes` lists the same field twice')
  return specs
}
