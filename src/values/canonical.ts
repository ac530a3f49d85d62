/**
 * The canonical form of a value as a `Map` key, used by hash indexes, `isIn`, `distinct` and
 * `groupBy`: equal values (Dates by time, objects deeply) give the same key, distinct values
 * distinct keys. Primitives are their own key (`1` and `1n` differ in a Map already); null and
 * missing are `null`. Composite values become a tagged string; a user string that starts with the
 * tag character is tagged too, so the two can never collide.
 */
export function canonical(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value.charCodeAt(0) === 1 ? `\u0001s${value}` : value
    case 'number':
    case 'boolean':
    case 'bigint':
      return value
    case 'undefined':
      return null
    default:
      if (value === null) return null
      return `\u0001j${encode(value)}`
  }
}

/** Stable (sorted keys) encoding of a value, tagging what JSON cannot tell apart. */
export function encode(value: unknown): string {
  // `!` never starts a JSON value, so these tags cannot collide with an encoded object.
  if (value instanceof Date) return `!d${value.getTime()}`
  if (typeof value === 'bigint') return `!b${value}`
  if (Array.isArray(value)) return `[${value.map(encode).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const fields = Object.keys(value).sort()
    return `{${fields.map((k) => `${JSON.stringify(k)}:${encode((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return value === undefined ? 'null' : JSON.stringify(value)
}
