import { itemJsonForm, jsonForm } from './canonical-form'
import { CorruptFileError } from '../errors'
import { shortName } from '../values/describe'
import { ownsKey } from '../values/own-field'
import { isoString, parseIso } from './iso-date'

/*
 * Stored values in JSON. JSON has no Date or bigint, so they are tagged as one-key objects:
 *   Date   → {"$date": "2024-05-01T12:00:00.000Z"}
 *   bigint → {"$bigint": "123456789012345678901234567890"}
 *   -0     → {"$number": "-0"}   (JSON.stringify writes -0 as 0; a stored -0 stays -0, as in memory)
 * and a user object that happens to have exactly one key starting with `$` is escaped as
 * {"$object": {...}}, so that it cannot be mistaken for a tag. Everything else is plain JSON,
 * with object keys in canonical order (canonical-form.ts): the same state, the same bytes.
 */

const DATE = '$date'
const BIGINT = '$bigint'
const OBJECT = '$object'
const NUMBER = '$number'

// The tags are plain literals, not `{ [DATE]: … }`: V8 builds an object literal with a computed
// key through a runtime call per property (measured: tagging 100k Dates took ~5x as long).

/** The tag of a Date. */
export function tagDate(date: Date): unknown {
  return { $date: isoString(date) }
}

/** The tag of a bigint. */
export function tagBigint(value: bigint): unknown {
  return { $bigint: value.toString() }
}

/** The tag of -0. */
export function tagNegativeZero(): unknown {
  return { $number: '-0' }
}

/** An object whose only key starts with `$`, escaped so that it cannot pass for a tag. */
export function escapeObject(obj: Readonly<Record<string, unknown>>): unknown {
  return { $object: obj }
}

/** One line of JSON for a stored value (records, ops): canonical key order, tagged; no newline inside. */
export function toJsonText(value: unknown): string {
  return JSON.stringify(itemJsonForm(value))
}

/**
 * Undoes the tags of {@link jsonForm} on a value fresh from `JSON.parse` (objects are reused, not copied).
 * An unknown `$` tag is a `CorruptFileError` (a newer writer, or a damaged file).
 */
export function untag(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      if (typeof item === 'object' && item !== null) value[i] = untag(item)
    }
    return value
  }
  const obj = value as Record<string, unknown>
  let keys = 0
  let first = ''
  // for…in lists inherited enumerable properties too (a library of the application may have put
  // one on Object.prototype): own keys only. The compiler drops the test where it knows the key is
  // the object's own (see ownsKey).
  for (const key in obj) {
    if (!ownsKey(obj, key)) continue
    if (keys++ === 0) first = key
    else break
  }
  if (keys === 1 && first.charCodeAt(0) === 36 /* $ */) return untagOne(first, obj[first])
  return untagFields(obj)
}

/**
 * The field of a flat record fresh from a file, when it is a Date (as a version 2 binary file
 * holds it) or a tag of a Date, bigint or -0: the value, as {@link untag} gives it (the same
 * CorruptFileError for a bad payload). Anything else (a nested object, an escaped one): `notFlat`.
 */
export function flatField(obj: object, notFlat: symbol): unknown {
  if (obj instanceof Date) return obj
  let keys = 0
  let first = ''
  for (const key in obj) {
    if (!ownsKey(obj, key)) continue
    if (keys++ > 0) return notFlat
    first = key
  }
  if (keys === 0 || (first !== DATE && first !== BIGINT && first !== NUMBER)) return notFlat
  return untagOne(first, (obj as Record<string, unknown>)[first])
}

function untagFields(obj: Record<string, unknown>): Record<string, unknown> {
  for (const key in obj) {
    if (!ownsKey(obj, key)) continue
    const v = obj[key]
    if (typeof v === 'object' && v !== null) obj[key] = untag(v)
  }
  return obj
}

function untagOne(key: string, payload: unknown): unknown {
  if (key === DATE && typeof payload === 'string') {
    const date = parseIso(payload)
    if (!Number.isNaN(date.getTime())) return date
  } else if (key === BIGINT && typeof payload === 'string' && /^-?\d+$/.test(payload)) {
    return BigInt(payload)
  } else if (key === OBJECT && typeof payload === 'object' && payload !== null && !Array.isArray(payload)) {
    return untagFields(payload as Record<string, unknown>)
  } else if (key === NUMBER && payload === '-0') {
    return -0
  } else if (key !== DATE && key !== BIGINT && key !== OBJECT && key !== NUMBER) {
    throw new CorruptFileError(`Unknown value tag \`${shortName(key)}\` in the file (written by a newer dictdb, or damaged)`)
  }
  throw new CorruptFileError(`Invalid \`${key}\` value in the file: ${JSON.stringify(payload)?.slice(0, 60)}`)
}
