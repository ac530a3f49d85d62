import { DuplicateKeyError, InvalidArgumentError, InvalidStateError, describe } from './errors'
import { Increment } from './operators'
import type { Validator } from './schema'
import { recordChange, type RecordChange } from './storage/change'
import type { TableStore } from './storage/table-store'
import { LONE_SURROGATE, copyRecord, freezeCopy, isPlainArgument, isPlainObject } from './values/freeze'
import { inputShapeOf, isFlat, type InputShape } from './values/input-shape'
import { shortName } from './values/describe'
import { fieldOf, ownsKey } from './values/own-field'
import type { Key, Rec } from './values/types'

/**
 * The checked fields of an `update`, flat: field, value, field, value… (one array per call,
 * where a Map would cost a table per call).
 */
export type FieldChanges = readonly unknown[]

/**
 * What a list insert has planned so far (nothing is applied before the whole list is planned),
 * so that a key repeated within the list is refused too.
 */
export class InsertBatch {
  /** The keys of the list so far, in order (what `insert` returns). */
  readonly keys: Key[] = []
  /** Past every integer key of the list so far: the next auto key, and a key that is surely new. */
  next: number
  /** Every key so far, built only once a key comes that could repeat one (rising integer keys never do). */
  #seen: Set<Key> | null = null

  constructor(next: number) {
    this.next = next
  }

  /** Adds `key`; false when the list has it already. */
  add(key: Key): boolean {
    if (typeof key === 'number' && Number.isInteger(key) && key >= this.next) this.next = key + 1
    else if ((this.#seen ??= new Set(this.keys)).has(key)) return false
    this.#seen?.add(key)
    this.keys.push(key)
    return true
  }
}

/** Plans the change sets of a table's writes: copies, keys, merges and schema checks. */
export class ChangePlanner {
  constructor(
    readonly table: string,
    readonly primaryKey: string,
    readonly store: TableStore,
    public validator: Validator | null,
  ) {}

  #input: InputShape | null = null

  /**
   * The change that inserts `input`. `batch` carries the keys and next auto key of a list
   * insert that is not applied yet, so keys within the list are checked too.
   */
  insert(input: unknown, batch?: InsertBatch, validate = true): RecordChange {
    const given = isPlainObject(input) ? input[this.primaryKey] : undefined
    let key: Key
    let rec: Record<string, unknown>
    if (given == null) {
      key = batch === undefined ? this.store.nextAutoKey : Math.max(batch.next, this.store.nextAutoKey)
      if (key > Number.MAX_SAFE_INTEGER) throw this.#keysUsedUp()
      rec = this.#copy(input, key) ?? copyRecord(input, 'record', this.primaryKey, key)
    } else {
      key = this.checkNewKey(given)
      rec = this.#copy(input, undefined) ?? copyRecord(input)
    }
    // Every stored integer key is below the auto key: a key at or past it needs no lookup.
    const surelyNew = typeof key === 'number' && key >= this.store.nextAutoKey && Number.isInteger(key)
    const existing = surelyNew ? undefined : this.store.get(key)
    // An expired record (not swept yet) is invisible: a new one with its key replaces it.
    if ((existing !== undefined && !this.store.expired(existing)) || (batch !== undefined && !batch.add(key))) throw this.duplicate(key)
    const ttl = this.store.ttl
    if (ttl?.ms !== undefined && fieldOf(rec, ttl.field) == null) rec[ttl.field] = Date.now() + ttl.ms
    return this.#change(key, existing, this.#validate(Object.freeze(rec), validate, given == null))
  }

  /**
   * The stored copy of a flat `input` by the compiled copier of its shape (the last one seen,
   * tried first without allocating), or null: then `copyRecord` copies and checks it.
   */
  #copy(input: unknown, key: Key | undefined): Record<string, unknown> | null {
    if (!isPlainObject(input)) return null
    let shape = this.#input
    if (shape === null || !shape.matches(input)) shape = this.#input = inputShapeOf(input, this.primaryKey)
    return shape !== null && shape.assignsKey === (key !== undefined) ? shape.copy(input, key) : null
  }

  /** The change that merges `fields` (from {@link changes}: frozen values or operators) into the stored `rec`. */
  merge(rec: Rec, fields: FieldChanges): RecordChange {
    const out = this.store.shallowCopyOf(rec)
    // Whether only fields `rec` has change, each to a value that is not an object (see `vouch`).
    let kept = true
    for (let i = 0; i < fields.length; i += 2) {
      const field = fields[i] as string
      const given = fields[i + 1]
      const value = given instanceof Increment ? given.applyTo(fieldOf(rec, field), field, this.table) : given
      if (kept && ((typeof value === 'object' && value !== null) || !ownsKey(rec, field))) kept = false
      out[field] = value
    }
    const after = Object.freeze(out)
    if (kept) this.store.vouch(after, rec, fields)
    return this.#change(this.store.keyOf(rec), rec, this.#validate(after))
  }

  /** The change that replaces the stored `rec` with the fields of an upsert (merged in). */
  upsertMerge(rec: Rec, input: unknown): RecordChange {
    const given = copyRecord(input)
    // Not a spread: a frozen record made by a spread is slow to copy in V8 (see values/shape.ts).
    const out = this.store.shallowCopyOf(rec)
    for (const field of Object.keys(given)) out[field] = given[field]
    return this.#change(this.store.keyOf(rec), rec, this.#validate(Object.freeze(out)))
  }

  /** The change that deletes the stored `rec`. */
  remove(rec: Rec): RecordChange {
    return this.#change(this.store.keyOf(rec), rec, undefined)
  }

  /**
   * Checks an `update` argument once: a plain object of field → value or operator, not the
   * primary key. Values are frozen here, so each record's merge shares them.
   */
  changes(changes: unknown): FieldChanges {
    if (!isPlainArgument(changes)) throw this.#notChanges(changes)
    // One for…in (own fields only, as Object.keys) for the usual single field; a second one,
    // to fill an array sized by the first, only for more: no key array either way. The compiler
    // sees ownsKey's key is the loop's own key of the object it walks, and drops the test.
    let n = 0
    let first = ''
    for (const field in changes) {
      if (!ownsKey(changes, field)) continue
      if (n++ === 0) first = field
    }
    if (n === 1) return [first, this.#changeValue(first, changes[first])]
    if (n === 0) throw new InvalidArgumentError('update() needs at least one field to change', { table: this.table })
    const out = new Array<unknown>(2 * n)
    let i = 0
    for (const field in changes) {
      if (!ownsKey(changes, field)) continue
      out[i++] = field
      out[i++] = this.#changeValue(field, changes[field])
    }
    return out
  }

  #notChanges(changes: unknown): InvalidArgumentError {
    return new InvalidArgumentError(`Expected the changes of update() to be a plain object of field values, got ${describe(changes)}`, { table: this.table })
  }

  /** A checked value of `changes`: an operator, a flat value, or a frozen copy. */
  #changeValue(field: string, value: unknown): unknown {
    if (field === this.primaryKey || value === undefined) throw this.#badChange(field)
    // Assigned to the record's copy, it would set the record's prototype (or vanish): refused as insert refuses it.
    if (field === '__proto__') throw new InvalidArgumentError(`Cannot store changes.__proto__: the field name \`__proto__\` is not allowed`, { table: this.table, field })
    if (!field.isWellFormed()) throw new InvalidArgumentError(`Cannot store changes.${shortName(field)}: field names ${LONE_SURROGATE}`, { table: this.table, field })
    return value instanceof Increment || isFlat(value) ? value : freezeCopy(value, `changes.${field}`)
  }

  #badChange(field: string): InvalidArgumentError {
    return field === this.primaryKey
      ? new InvalidArgumentError(`update() cannot change the primary key \`${shortName(field)}\`; delete and insert instead`, { table: this.table, field })
      : new InvalidArgumentError(`Expected update() field \`${shortName(field)}\` to be a value, got \`undefined\` (use null to clear it)`, { table: this.table, field })
  }

  /**
   * The key of a `where` that names one record by primary key (`{ id: 7 }`), or undefined for any
   * other condition: the planner's shortcut for the most common write, with no condition to build.
   */
  keyOf(where: unknown): Key | undefined {
    if (!isPlainArgument(where)) return undefined
    let key: unknown
    let fields = 0
    for (const field in where) {
      // Own fields only (for…in also lists what a library put on Object.prototype): see changes().
      if (!ownsKey(where, field)) continue
      if (++fields > 1 || field !== this.primaryKey) return undefined
      key = where[field]
    }
    return typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key)) ? key : undefined
  }

  checkKey(key: unknown): Key {
    if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) return key
    throw new InvalidArgumentError(`Expected primary key \`${shortName(this.primaryKey)}\` to be a string or a finite number, got ${describe(key)}`, {
      table: this.table,
      field: this.primaryKey,
    })
  }

  /**
   * {@link checkKey} for a key about to be stored: a number past 2^53 − 1 is refused, since it
   * cannot be told from its neighbours (and the next auto key after it could not be made).
   */
  checkNewKey(key: unknown): Key {
    const checked = this.checkKey(key)
    if (typeof checked === 'number' && Math.abs(checked) > Number.MAX_SAFE_INTEGER) {
      throw new InvalidArgumentError(
        `Expected primary key \`${shortName(this.primaryKey)}\` to be at most Number.MAX_SAFE_INTEGER in size (use a string for larger ids), got ${describe(key)}`,
        { table: this.table, field: this.primaryKey },
      )
    }
    return checked
  }

  #keysUsedUp(): InvalidStateError {
    return new InvalidStateError(`Table \`${shortName(this.table)}\` has used up its auto keys (the next would be past Number.MAX_SAFE_INTEGER): give keys explicitly`, {
      table: this.table,
    })
  }

  duplicate(key: Key): DuplicateKeyError {
    return new DuplicateKeyError(`Duplicate primary key ${describe(key)} in table \`${shortName(this.table)}\``, { table: this.table, key, field: this.primaryKey })
  }

  #validate(rec: Rec, enabled = true, keyAssigned = false): Rec {
    return enabled && this.validator !== null ? this.validator.validate(rec, keyAssigned) : rec
  }

  #change(key: Key, before: Rec | undefined, after: Rec | undefined): RecordChange {
    return recordChange(this.table, key, before, after)
  }
}
