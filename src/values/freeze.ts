import { InvalidArgumentError, describe } from '../errors'
import { shortName } from './describe'
import { isFlat } from './input-shape'
import { ownsKey } from './own-field'

declare global {
  interface String {
    /** Whether the string holds no lone surrogate (ES2024; Node 20 has it). */
    isWellFormed(): boolean
  }
}


/**
 * Why a string with a lone surrogate (half of a UTF-16 pair, as slicing between the halves
 * makes) is refused: it has no UTF-8 form, so the shared log and the binary file would hold
 * U+FFFD in its place, and another thread or a reload would see another value.
 */
export const LONE_SURROGATE = 'must not hold a lone surrogate (half of a UTF-16 pair): it has no UTF-8 form'

/**
 * A `Date` whose setters throw, so a stored date is as read-only as the frozen object holding
 * it (`Object.freeze` does not protect a Date's internal time value). Still `instanceof Date`.
 */
export class FrozenDate extends Date {}
const DATE_SETTERS = Object.getOwnPropertyNames(Date.prototype).filter((name) => name.startsWith('set'))
for (const name of DATE_SETTERS) {
  Object.defineProperty(FrozenDate.prototype, name, {
    value(): never {
      throw new TypeError(`Cannot call ${name}() on a stored Date: stored records are read-only`)
    },
  })
}
Object.freeze(FrozenDate.prototype)

/**
 * Deep-copies `value` into the stored form — plain objects, arrays, `FrozenDate`s — and deep-freezes
 * it, checking in the same pass that every value can be stored. Object fields set to `undefined`
 * are dropped (as JSON does). Throws `InvalidArgumentError` naming the path of a bad value.
 */
export function freezeCopy(value: unknown, path = 'value', ancestors?: unknown[]): unknown {
  switch (typeof value) {
    case 'string':
      if (value.isWellFormed()) return value
      throw unstorable(path, value, `strings ${LONE_SURROGATE}`)
    case 'boolean':
    case 'bigint':
      return value
    case 'number':
      if (Number.isFinite(value)) return value
      throw unstorable(path, value, 'numbers must be finite')
    case 'object':
      if (value === null) return null
      return freezeObject(value, path, ancestors)
    default:
      throw unstorable(path, value, 'only JSON-like values, Date and bigint can be stored')
  }
}

function freezeObject(value: object, path: string, ancestors: unknown[] = []): unknown {
  if (value instanceof Date) {
    const time = value.getTime()
    if (Number.isNaN(time)) throw unstorable(path, value, 'invalid Date')
    return Object.freeze(new FrozenDate(time))
  }
  if (ancestors.includes(value)) throw unstorable(path, '[cycle]', 'cyclic structures cannot be stored')
  ancestors.push(value)
  let out: unknown
  if (Array.isArray(value)) {
    const arr = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) {
      if (!ownsKey(value, i) || value[i] === undefined) throw unstorable(`${path}[${i}]`, undefined, 'arrays cannot hold undefined or holes')
      arr[i] = freezeCopy(value[i], `${path}[${i}]`, ancestors)
    }
    out = Object.freeze(arr)
  } else {
    const proto = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      throw unstorable(path, value, `instances of ${shortName(String(value.constructor?.name ?? 'a class'))} cannot be stored, only plain objects`)
    }
    out = Object.freeze(copyFields(value as Record<string, unknown>, path, ancestors))
  }
  ancestors.pop()
  return out
}

function copyFields(source: Record<string, unknown>, path: string, ancestors: unknown[] | undefined, out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const field of Object.keys(source)) {
    const v = source[field]
    if (v === undefined) continue
    if (field === '__proto__') throw unstorable(`${path}.${field}`, v, 'the field name `__proto__` is not allowed')
    if (!field.isWellFormed()) throw unstorable(`${path}.${field}`, v, `field names ${LONE_SURROGATE}`)
    // Flat values are stored as they are; only the others need a path (for their errors) and
    // the ancestors (for cycles), so a flat record costs no string and no array here.
    if ((typeof v === 'string' && v.isWellFormed()) || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[field] = v
    else out[field] = freezeCopy(v, `${path}.${field}`, (ancestors ??= [source]))
  }
  return out
}

/** Freezes a top-level record: a plain object whose fields are stored values. */
export function freezeRecord(record: unknown, what = 'record'): Readonly<Record<string, unknown>> {
  return Object.freeze(copyRecord(record, what))
}

/**
 * Copies a record for storage: nested values deep-frozen, the top level left open so the caller
 * can add the primary key (first, when `keyField` is given) before freezing it.
 */
export function copyRecord(record: unknown, what = 'record', keyField?: string, key?: unknown): Record<string, unknown> {
  if (!isPlainObject(record)) throw new InvalidArgumentError(`Expected ${what} to be a plain object, got ${describe(record)}`)
  const out: Record<string, unknown> = {}
  if (keyField !== undefined) out[keyField] = key
  copyFields(record, what, undefined, out)
  // Re-set after the copy: a `null` key field in the source must not overwrite the assigned key.
  if (keyField !== undefined) out[keyField] = key
  return out
}

/** Returns a fresh, mutable deep copy of a stored value (plain `Date`s, unfrozen objects). */
export function thaw<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (Array.isArray(value)) return value.map(thaw) as T
  // Spread copies flat fields fastest; only nested values need a second look.
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
  for (const field in out) {
    // Own fields only: for…in also lists what a library may have put on Object.prototype.
    if (!ownsKey(out, field)) continue
    const v = out[field]
    if (typeof v === 'object' && v !== null) out[field] = thaw(v)
  }
  return out as T
}

function unstorable(path: string, value: unknown, why: string): InvalidArgumentError {
  const shown = typeof value === 'symbol' ? 'a symbol' : typeof value === 'function' ? 'a function' : describe(value)
  return new InvalidArgumentError(`Cannot store ${shortName(path)}: ${why}, got ${shown}`, { field: path })
}

/** A plain object: `{}` literal or `Object.create(null)`, not an array, Date or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * {@link isPlainObject} for an argument on a hot path (`update`'s changes and `where`). It reads
 * `constructor` first: that load tells the compiler the object's map, so that
 * `Object.getPrototypeOf` folds to a constant, where on an object it knows nothing of it is a
 * runtime call (about a tenth of an update by key). The read runs a getter or a proxy's trap
 * named `constructor`, which is why the other inputs keep {@link isPlainObject}.
 */
export function isPlainArgument(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  if ((value as { constructor?: unknown }).constructor !== Object) return isPlainObject(value)
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Checks and deep-freezes, in place, a record nothing else references (just decoded from a file
 * or a snapshot): the stored form without a second copy. Dates become `FrozenDate`s. A value
 * that is already frozen (someone else's) is copied instead.
 */
export function adoptRecord(record: unknown, what = 'record'): Readonly<Record<string, unknown>> {
  if (!isPlainObject(record)) throw new InvalidArgumentError(`Expected ${what} to be a plain object, got ${describe(record)}`)
  // Most records are flat: freezing them in place is all there is to do (no key array, no path).
  if (!Object.isFrozen(record) && hasFlatFields(record)) return Object.freeze(record)
  return adopt(record, what, []) as Readonly<Record<string, unknown>>
}

/** Whether every field of `record` is stored as it is (flat or null) and none needs a check. */
function hasFlatFields(record: Record<string, unknown>): boolean {
  for (const field in record) {
    if (!isFlatOrNull(record[field]) || field === '__proto__') return false
  }
  return true
}

function isFlatOrNull(value: unknown): boolean {
  return value === null || isFlat(value)
}

function adopt(value: unknown, path: string, ancestors: unknown[]): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date || Object.isFrozen(value)) {
    return freezeCopy(value, path, ancestors)
  }
  if (ancestors.includes(value)) throw unstorable(path, '[cycle]', 'cyclic structures cannot be stored')
  ancestors.push(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!ownsKey(value, i) || value[i] === undefined) throw unstorable(`${path}[${i}]`, undefined, 'arrays cannot hold undefined or holes')
      value[i] = adopt(value[i], `${path}[${i}]`, ancestors)
    }
  } else {
    if (!isPlainObject(value)) throw unstorable(path, value, `instances of ${shortName(String(value.constructor?.name ?? 'a class'))} cannot be stored, only plain objects`)
    for (const field of Object.keys(value)) {
      const v = value[field]
      if (v === undefined) delete value[field]
      else if (field === '__proto__') throw unstorable(`${path}.${field}`, v, 'the field name `__proto__` is not allowed')
      // A flat value stays as it is: only the others need a path (for their errors).
      else if (!isFlatOrNull(v)) value[field] = adopt(v, `${path}.${field}`, ancestors)
    }
  }
  ancestors.pop()
  return Object.freeze(value)
}
