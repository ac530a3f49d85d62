import { DuplicateKeyError, InvalidArgumentError, describe } from './errors'
import { Increment } from './operators'
import type { Validator } from './schema'
import type { RecordChange } from './storage/change'
import type { Row } from './storage/row'
import type { TableStore } from './storage/table-store'
import { copyRecord, freezeCopy, isPlainObject } from './values/freeze'
import type { Key, Rec } from './values/types'

/** Plans the change sets of a table's writes: copies, keys, merges and schema checks. */
export class ChangePlanner {
  constructor(
    readonly table: string,
    readonly primaryKey: string,
    readonly store: TableStore,
    public validator: Validator | null,
  ) {}

  /**
   * The change that inserts `input`. `batch` carries the keys and next auto key of a list
   * insert that is not applied yet, so keys within the list are checked too.
   */
  insert(input: unknown, batch?: { keys: Set<Key>; next: number }, validate = true): RecordChange {
    const given = isPlainObject(input) ? input[this.primaryKey] : undefined
    let key: Key
    let rec: Record<string, unknown>
    if (given == null) {
      key = batch === undefined ? this.store.nextAutoKey : Math.max(batch.next, this.store.nextAutoKey)
      rec = copyRecord(input, 'record', this.primaryKey, key)
    } else {
      key = this.checkKey(given)
      rec = copyRecord(input)
    }
    // Every stored integer key is below the auto key: a key at or past it needs no lookup.
    const surelyNew = typeof key === 'number' && key >= this.store.nextAutoKey && Number.isInteger(key)
    const existing = surelyNew ? undefined : this.store.row(key)?.rec
    // An expired record (not swept yet) is invisible: a new one with its key replaces it.
    if ((existing !== undefined && !this.store.expired(existing)) || batch?.keys.has(key)) throw this.duplicate(key)
    if (batch !== undefined) {
      batch.keys.add(key)
      if (typeof key === 'number' && Number.isInteger(key) && key >= batch.next) batch.next = key + 1
    }
    const ttl = this.store.ttl
    if (ttl?.ms !== undefined && rec[ttl.field] == null) rec[ttl.field] = Date.now() + ttl.ms
    return this.#change(key, existing, this.#validate(Object.freeze(rec), validate, given == null))
  }

  /** The change that merges `fields` (already frozen values or operators) into `row`. */
  merge(row: Row, fields: ReadonlyMap<string, unknown>): RecordChange {
    const out = this.store.shallowCopyOf(row)
    for (const [field, value] of fields) {
      out[field] = value instanceof Increment ? value.applyTo(row.rec[field], field, this.table) : value
    }
    return this.#change(row.key, row.rec, this.#validate(Object.freeze(out)))
  }

  /** The change that replaces `row` with the fields of an upsert (merged in). */
  upsertMerge(row: Row, input: unknown): RecordChange {
    const given = copyRecord(input)
    return this.#change(row.key, row.rec, this.#validate(Object.freeze({ ...row.rec, ...given })))
  }

  remove(row: Row): RecordChange {
    return this.#change(row.key, row.rec, undefined)
  }

  /**
   * Checks an `update` argument once: a plain object of field → value or operator, not the
   * primary key. Values are frozen here, so each record's merge shares them.
   */
  changes(changes: unknown): Map<string, unknown> {
    if (!isPlainObject(changes)) {
      throw new InvalidArgumentError(`Expected the changes of update() to be a plain object of field values, got ${describe(changes)}`, { table: this.table })
    }
    const out = new Map<string, unknown>()
    for (const field of Object.keys(changes)) {
      const value = changes[field]
      if (field === this.primaryKey) {
        throw new InvalidArgumentError(`update() cannot change the primary key \`${field}\`; delete and insert instead`, { table: this.table, field })
      }
      if (value === undefined) {
        throw new InvalidArgumentError(`Expected update() field \`${field}\` to be a value, got \`undefined\` (use null to clear it)`, { table: this.table, field })
      }
      out.set(field, value instanceof Increment ? value : freezeCopy(value, `changes.${field}`))
    }
    if (out.size === 0) throw new InvalidArgumentError('update() needs at least one field to change', { table: this.table })
    return out
  }

  checkKey(key: unknown): Key {
    if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) return key
    throw new InvalidArgumentError(`Expected primary key \`${this.primaryKey}\` to be a string or a finite number, got ${describe(key)}`, {
      table: this.table,
      field: this.primaryKey,
    })
  }

  duplicate(key: Key): DuplicateKeyError {
    return new DuplicateKeyError(`Duplicate primary key ${describe(key)} in table \`${this.table}\``, { table: this.table, key, field: this.primaryKey })
  }

  #validate(rec: Rec, enabled = true, keyAssigned = false): Rec {
    return enabled && this.validator !== null ? this.validator.validate(rec, keyAssigned) : rec
  }

  #change(key: Key, before: Rec | undefined, after: Rec | undefined): RecordChange {
    return { type: 'record', table: this.table, key, before, after }
  }
}
