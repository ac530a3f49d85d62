import { flatShapeOf } from './canonical-shape'
import { tagDate, tagBigint, tagNegativeZero, escapeObject, untag } from './json-values'

/*
 * The canonical form of what a file stores: object keys in one fixed order at every depth, so
 * that the same state always gives the same bytes (equal databases, equal checksums; backups
 * that diff and deduplicate), whatever order the fields were given in.
 *
 * The order: integer-like keys ("0", "7", "42") ascending as numbers, then every other key in
 * UTF-16 code-unit order (`Array.prototype.sort`). The first part is the order JavaScript itself
 * enumerates integer-like keys in, whatever their insertion order — so an object built by
 * inserting keys in this order enumerates (and JSON.stringify / msgpackr write) in this order.
 *
 * Why not fast-json-stable-stringify (named by the design): it sorts the keys of every object it
 * meets, then builds the text by string concatenation in JS, value by value. Most records a
 * database saves are flat and many are already in order (every record loaded from a file is);
 * this walks a record once, returns it as it is when it is already canonical — then V8's native
 * JSON.stringify writes it — and otherwise builds one reordered copy. The same walk also tags
 * Date and bigint, and serves the binary format (the same tagged form). Measured in bench/canonical.mjs.
 */

/** Whether keys (as `Object.keys` lists them) are in canonical order. */
function inOrder(keys: readonly string[]): boolean {
  // Integer-like keys always come first and ascending: only the others can be out of order.
  let i = 0
  while (i < keys.length && isIndex(keys[i] as string)) i++
  for (i++; i < keys.length; i++) if ((keys[i - 1] as string) > (keys[i] as string)) return false
  return true
}

function isIndex(key: string): boolean {
  const c = key.charCodeAt(0)
  return c >= 48 && c <= 57 && /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4294967295
}


/**
 * A stored value with its object keys in canonical order (a copy only where a key is out of
 * order: the value itself when it is canonical already). For the binary format: Dates and
 * bigints stay as they are.
 */
export function sortedForm(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Date) return value
  if (Array.isArray(value)) return mapArray(value, sortedForm)
  return mapObject(value as Record<string, unknown>, sortedForm, false)
}

/**
 * A stored value as JSON must carry it: keys in canonical order, Dates, bigints and -0 tagged, and
 * an object that could pass for a tag escaped (see json-values.ts). The value itself when it needs
 * none of that.
 */
export function jsonForm(value: unknown): unknown {
  if (typeof value === 'bigint') return tagBigint(value)
  if (isNegativeZero(value)) return tagNegativeZero()
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return tagDate(value)
  if (Array.isArray(value)) return mapArray(value, jsonForm)
  return mapObject(value as Record<string, unknown>, jsonForm, true)
}

/**
 * {@link jsonForm} of an item of a file (a record, an op): a flat record of a known shape takes
 * the compiled path (canonical-shape.ts), anything else the general walk.
 */
export function itemJsonForm(value: unknown): unknown {
  if (isRecordLike(value)) {
    const out = flatShapeOf(value, sortKeys)?.json(value)
    if (out != null) return out
  }
  return jsonForm(value)
}

/** {@link sortedForm} of an item of a file, as {@link itemJsonForm}. */
export function itemSortedForm(value: unknown): unknown {
  return itemForm(value, sortedForm)
}

/**
 * The form the binary format (version 3) stores an item in: the same tagged form as JSON's
 * ({@link itemJsonForm}), so that msgpackr never sees a Date, a bigint or -0 from dictdb.
 * msgpackr's handling of Date and bigint goes through tables global to its module, which the
 * application's own `addExtension` changes; a tag is plain data whatever the application did.
 */
export const itemBinaryForm: (value: unknown) => unknown = itemJsonForm

/** A flat record through the compiled path (canonical-shape.ts), anything else through `walk`. */
function itemForm(value: unknown, walk: (value: unknown) => unknown): unknown {
  if (isRecordLike(value)) {
    const out = flatShapeOf(value, sortKeys)?.sorted(value)
    if (out != null) return out
  }
  return walk(value)
}

/**
 * Puts decoded items (records, ops) in canonical order, in place. A file written by dictdb holds
 * them so already, and they are kept as they are; a file edited by hand may not, and every way in
 * then stores the same fields in the same order, the order a save would write.
 */
export function canonicalItems(items: unknown[]): void {
  for (let i = 0; i < items.length; i++) items[i] = itemSortedForm(items[i])
}

/** {@link canonicalItems} of items in the tagged form (binary versions 2 and 3): their tags undone too. */
export function canonicalTaggedItems(items: unknown[]): void {
  for (let i = 0; i < items.length; i++) {
    const item = items[i]
    const flat = isRecordLike(item) ? flatShapeOf(item, sortKeys)?.untagged(item) : null
    items[i] = flat ?? sortedForm(untag(item))
  }
}

function isRecordLike(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
}

function sortKeys(keys: string[]): readonly string[] {
  return keys.sort()
}

function needsWalk(v: unknown): boolean {
  return (typeof v === 'object' && v !== null) || typeof v === 'bigint' || isNegativeZero(v)
}

function isNegativeZero(v: unknown): boolean {
  return v === 0 && 1 / (v as number) < 0
}

function mapArray(array: readonly unknown[], fn: (v: unknown) => unknown): readonly unknown[] {
  let out: unknown[] | null = null
  for (let i = 0; i < array.length; i++) {
    const v = array[i]
    const w = needsWalk(v) ? fn(v) : v
    if (w !== v) out ??= array.slice(0, i)
    if (out !== null) out[i] = w
  }
  return out ?? array
}

function mapObject(obj: Record<string, unknown>, fn: (v: unknown) => unknown, escape: boolean): unknown {
  const keys = Object.keys(obj)
  // A copy would take such a field for the prototype: keep the object (decoded from a file; it is refused when stored).
  if (keys.includes('__proto__')) return obj
  let out: Record<string, unknown> | null = null
  if (inOrder(keys)) {
    // Copied only from the first field whose value changes (a tagged Date, a reordered object).
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string
      const v = obj[k]
      const w = needsWalk(v) ? fn(v) : v
      if (w !== v && out === null) {
        out = {}
        for (let j = 0; j < i; j++) out[keys[j] as string] = obj[keys[j] as string]
      }
      if (out !== null) out[k] = w
    }
  } else {
    out = {}
    for (const k of sortedLike(keys)) {
      const v = obj[k]
      out[k] = needsWalk(v) ? fn(v) : v
    }
  }
  const result = out ?? obj
  return escape && keys.length === 1 && (keys[0] as string).charCodeAt(0) === 36 /* $ */ ? escapeObject(result) : result
}

/** The last out-of-order key list seen and its sorted copy: records of a table share a shape. */
let lastKeys: readonly string[] = []
let lastSorted: readonly string[] = []

/** `keys` sorted, reusing the last sort when the keys are the same (same strings, same order). */
function sortedLike(keys: string[]): readonly string[] {
  if (keys.length === lastKeys.length) {
    let same = true
    for (let i = 0; i < keys.length && same; i++) same = keys[i] === lastKeys[i]
    if (same) return lastSorted
  }
  lastKeys = keys.slice()
  lastSorted = keys.sort()
  return lastSorted
}
