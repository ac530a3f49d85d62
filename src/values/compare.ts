/**
 * One total order over stored values, used by sorting, sorted indexes and range queries:
 * null/missing < boolean < number < bigint < string < Date < array < object. Values of different
 * types never compare equal; comparison *operators* across types are false (see `sameKind`).
 */
export function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra - rb
  switch (ra) {
    case 0:
      return 0
    case 1:
    case 3:
      return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0
    case 5:
      return (a as Date).getTime() - (b as Date).getTime()
    case 6:
      return compareArrays(a as unknown[], b as unknown[])
    default:
      return compareObjects(a as Record<string, unknown>, b as Record<string, unknown>)
  }
}

/** Type rank in the total order. */
export function rank(v: unknown): number {
  switch (typeof v) {
    case 'undefined':
      return 0
    case 'boolean':
      return 1
    case 'number':
      return 2
    case 'bigint':
      return 3
    case 'string':
      return 4
    default:
      if (v === null) return 0
      if (v instanceof Date) return 5
      return Array.isArray(v) ? 6 : 7
  }
}

/** True when both values are non-null and of the same kind, so an ordering operator applies. */
export function sameKind(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false
  return typeof a === typeof b ? typeof a !== 'object' || rank(a) === rank(b) : false
}

/** Deep equality of stored values: Dates by time, `1` and `1n` distinct. */
export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  return compare(a, b) === 0
}

function compareArrays(a: unknown[], b: unknown[]): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const c = compare(a[i], b[i])
    if (c !== 0) return c
  }
  return a.length - b.length
}

function compareObjects(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort()
  const kb = Object.keys(b).sort()
  const c = compareArrays(ka, kb)
  if (c !== 0) return c
  for (const k of ka) {
    const d = compare(a[k], b[k])
    if (d !== 0) return d
  }
  return 0
}
