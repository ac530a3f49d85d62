/*
 * Shows a caller's value in an error message: `` `-1` (number) ``. It must never throw and never
 * take long, whatever it is given — null-prototype objects, bigints inside objects, symbols,
 * proxies whose traps throw, getters that throw, cycles, megabyte strings — because it runs
 * while an error is being reported, and an exception here would replace the real one.
 */

const MAX_TEXT = 60
// Walk at most this many nodes: the text is cut at MAX_TEXT anyway.
const MAX_NODES = 40

/** Describes a value for error messages: `` `-1` (number) ``. */
export function describe(value: unknown): string {
  return `\`${preview(value)}\` (${kindOf(value)})`
}

/** A short, JSON-like text of `value`, cut to 60 characters. */
export function preview(value: unknown): string {
  let text: string
  try {
    text = write(value, { nodes: 0, seen: [] })
  } catch {
    text = `[${typeof value}]`
  }
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 3)}...` : text
}

/**
 * A caller's name (of a field, a table, an account, a sequence…) as an error message shows it:
 * cut to 60 characters (or `max`). The error's context property (`field`, `table`, `key`) keeps it whole.
 */
export function shortName(name: string, max = MAX_TEXT): string {
  return name.length > max ? `${name.slice(0, max - 3)}...` : name
}

// A path's end names the file, its start the place: a long one keeps both.
const MAX_PATH = 160
const PATH_HEAD = 60

/** A caller's file path as an error message shows it: at most 160 characters, start and end kept. */
export function shortPath(path: string): string {
  return path.length > MAX_PATH ? `${path.slice(0, PATH_HEAD)}...${path.slice(path.length - (MAX_PATH - PATH_HEAD - 3))}` : path
}

/** The kind shown in parentheses: `null`, `array`, `Date`, a built-in's tag (`Map`), or `typeof`. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  try {
    if (Array.isArray(value)) return 'array'
    if (value instanceof Date) return 'Date'
    // A Map, a Set, a RegExp, a boxed value…: not an object of fields, and the message says so.
    const tag = Object.prototype.toString.call(value).slice(8, -1)
    if (tag !== 'Object') return tag
  } catch {
    // A revoked proxy, or a proxy whose getPrototypeOf trap throws: still an object.
  }
  return 'object'
}

interface Walk {
  nodes: number
  seen: object[]
}

function write(value: unknown, walk: Walk): string {
  if (++walk.nodes > MAX_NODES) return '…'
  switch (typeof value) {
    case 'string':
      // Quote only the start of a huge string: JSON.stringify of all of it would copy it.
      return JSON.stringify(value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value)
    case 'bigint':
      return `${value}n`
    case 'symbol':
      return value.toString()
    case 'function':
      return 'function'
    case 'undefined':
      return 'undefined'
    case 'object':
      return value === null ? 'null' : writeObject(value, walk)
    default:
      return String(value)
  }
}

function writeObject(value: object, walk: Walk): string {
  if (walk.seen.includes(value)) return '[cycle]'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : JSON.stringify(value.toISOString())
  walk.seen.push(value)
  try {
    if (Array.isArray(value)) return `[${listOf(value.slice(0, 8), walk)}${value.length > 8 ? ',…' : ''}]`
    const parts: string[] = []
    for (const key of Object.keys(value).slice(0, 8)) {
      parts.push(`${JSON.stringify(key)}:${field(value, key, walk)}`)
    }
    return `{${parts.join(',')}}`
  } finally {
    walk.seen.pop()
  }
}

function listOf(items: unknown[], walk: Walk): string {
  return items.map((item) => write(item, walk)).join(',')
}

function field(value: object, key: string, walk: Walk): string {
  try {
    return write((value as Record<string, unknown>)[key], walk)
  } catch {
    return '[unreadable]'
  }
}
