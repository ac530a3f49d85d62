/**
 * Value semantics of the reference model, written from SPEC.md alone (no src/ imports):
 * null and missing are the same "null"; equality is deep, Dates by time; values of different
 * kinds are never equal and never ordered by an operator.
 */

export type Rec = Record<string, unknown>

/** A record's own field (a field named `toString` is missing from a record without it). */
export function own(rec: Rec, field: string): unknown {
  return Object.hasOwn(rec, field) ? rec[field] : undefined
}

export function isNull(v: unknown): boolean {
  return v === null || v === undefined
}

/** The kind of a non-null value, for "same type" tests and the cross-type order. */
export function kind(v: unknown): string {
  if (isNull(v)) return 'null'
  if (v instanceof Date) return 'date'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** Both non-null and of one kind: only then do `ne`, `lt`, `between`... apply. */
export function sameKind(a: unknown, b: unknown): boolean {
  return !isNull(a) && !isNull(b) && kind(a) === kind(b)
}

/** Deep equality; null and missing are equal to each other (groupBy keys). */
export function same(a: unknown, b: unknown): boolean {
  if (isNull(a) || isNull(b)) return isNull(a) && isNull(b)
  if (kind(a) !== kind(b)) return false
  if (a instanceof Date) return a.getTime() === (b as Date).getTime()
  if (Array.isArray(a)) {
    const bb = b as unknown[]
    return a.length === bb.length && a.every((x, i) => same(x, bb[i]))
  }
  if (typeof a === 'object') {
    const ao = a as Rec
    const bo = b as Rec
    const keys = Object.keys(ao)
    return keys.length === Object.keys(bo).length && keys.every((k) => k in bo && same(ao[k], bo[k]))
  }
  return a === b
}

/**
 * The order used by `orderBy` and `min`/`max`. SPEC fixes null/missing first; across the other
 * kinds it fixes nothing, so the model uses the order documented on the engine's `compare`:
 * null < boolean < number < bigint < string < Date < array < object. Arrays compare element
 * by element, then by length.
 */
const KIND_RANK: Record<string, number> = { null: 0, boolean: 1, number: 2, bigint: 3, string: 4, date: 5, array: 6, object: 7 }

export function order(a: unknown, b: unknown): number {
  const ka = kind(a)
  const kb = kind(b)
  if (ka !== kb) return (KIND_RANK[ka] ?? 9) - (KIND_RANK[kb] ?? 9)
  switch (ka) {
    case 'null':
      return 0
    case 'date':
      return Math.sign((a as Date).getTime() - (b as Date).getTime())
    case 'array': {
      const aa = a as unknown[]
      const bb = b as unknown[]
      for (let i = 0; i < Math.min(aa.length, bb.length); i++) {
        const c = order(aa[i], bb[i])
        if (c !== 0) return c
      }
      return Math.sign(aa.length - bb.length)
    }
    case 'object':
      throw new Error('model: records in these tests hold no nested objects')
    default:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  }
}

/** SQL LIKE: `%` any run, `_` exactly one character (code point); nothing else is special. */
export function like(text: string, pattern: string, ignoreCase = false): boolean {
  const t = [...(ignoreCase ? text.toLowerCase() : text)]
  const p = [...(ignoreCase ? pattern.toLowerCase() : pattern)]
  // match[i][j]: the first i pattern characters match the first j text characters.
  let prev: boolean[] = t.map(() => false)
  prev.unshift(true)
  for (const ch of p) {
    const row: boolean[] = [ch === '%' && prev[0] === true]
    for (let j = 1; j <= t.length; j++) {
      if (ch === '%') row.push(prev[j] === true || row[j - 1] === true)
      else row.push(prev[j - 1] === true && (ch === '_' || ch === t[j - 1]))
    }
    prev = row
  }
  return prev[t.length] === true
}

/** A deep copy of plain data (Dates copied, fields set to undefined dropped). */
export function clone<V>(v: V): V {
  if (v instanceof Date) return new Date(v.getTime()) as V
  if (Array.isArray(v)) return v.map(clone) as V
  if (typeof v === 'object' && v !== null) {
    const out: Rec = {}
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clone(x)
    return out as V
  }
  return v
}

/**
 * A stable, readable rendering for comparisons and failure messages: object keys sorted,
 * Dates by ISO time, a field holding `undefined` shown (so it differs from a missing field).
 */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined'
  if (v === null) return 'null'
  if (v instanceof Date) return `Date(${Number.isNaN(v.getTime()) ? 'invalid' : v.toISOString()})`
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`
  if (typeof v === 'object') {
    const o = v as Rec
    return `{${Object.keys(o).sort().map((k) => `${k}: ${show(o[k])}`).join(', ')}}`
  }
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'bigint') return `${v}n`
  if (Object.is(v, -0)) return '-0'
  return String(v)
}
