import { InvalidArgumentError, describe, readingInput } from './errors'
import { shortName } from './values/describe'
import type { Logger } from './database'

// Without a prototype: an option nobody gave reads as undefined, whatever a library of the
// application put on Object.prototype (a `limit` or `where` there must not reach a query).
const NO_OPTIONS = Object.freeze(Object.create(null) as object)

/**
 * Checks an options argument at the public boundary: undefined or a plain object whose keys are
 * all known. A misspelled key (`orderby`) is an error that suggests the right one. Returns a copy
 * read once, so a getter or a proxy of the caller's cannot answer differently later.
 */
export function checkOptions<O extends object>(options: O | undefined, allowed: readonly string[], what: string): Partial<O> {
  if (options === undefined) return NO_OPTIONS
  return readingInput(`the options of ${what}`, () => {
    if (!isOptionsObject(options)) {
      throw new InvalidArgumentError(`Expected the options of ${what} to be an object, got ${describe(options)}`)
    }
    const out = Object.create(null) as Record<string, unknown>
    for (const key of Object.keys(options)) {
      if (!allowed.includes(key)) throw new InvalidArgumentError(`Unknown option \`${shortName(key)}\` for ${what}. ${didYouMean(key, allowed, 'Known options')}`)
      out[key] = (options as Record<string, unknown>)[key]
    }
    return out as Partial<O>
  })
}

/**
 * An object that can hold options: not null, a list, or a built-in such as a Date or a Map (whose
 * entries are not its keys, so its options would be silently ignored).
 */
export function isOptionsObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value) === '[object Object]'
}

/** `Did you mean \`age\`?` for the nearest of `known`, or the list of them under `listName`. */
export function didYouMean(name: string, known: Iterable<string>, listName: string): string {
  const all = [...known]
  const lower = name.toLowerCase()
  const near = all.find((a) => a.length === name.length && a.toLowerCase() === lower) ?? nearest(name, all)
  if (near !== undefined) return `Did you mean \`${shortName(near)}\`?`
  return `${listName}: ${nameList(all)}`
}

/** Names for a message: each cut, and as many as fit in about 200 characters (20 at most), then `…`. */
export function nameList(names: readonly string[]): string {
  let shown = ''
  for (let i = 0; i < names.length; i++) {
    const next = shortName(names[i] as string)
    if (i === 20 || (i > 0 && shown.length + next.length > 200)) return `${shown}, …`
    shown = i === 0 ? next : `${shown}, ${next}`
  }
  return shown
}

/** Expects `value` to be a non-negative integer (or undefined). */
export function checkCount(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-negative integer, got ${describe(value)}`)
  }
  return value
}

/** Expects `value` to be a boolean (or undefined). */
export function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a boolean, got ${describe(value)}`)
  }
  return value
}

/** Expects `value` to be a non-empty string. */
export function checkName(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a non-empty string, got ${describe(value)}`)
  }
  return value
}

/** Expects `value` to be a function. */
export function checkFunction(value: unknown, name: string): void {
  if (typeof value !== 'function') throw new InvalidArgumentError(`Expected \`${name}\` to be a function, got ${describe(value)}`)
}

/** The closest of `known` to `name`, if it is close enough to be a typo of it. */
function nearest(name: string, known: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    // The edit distance is at least the difference in length: skip the quadratic work.
    if (Math.abs(candidate.length - name.length) > 2) continue
    const d = distance(candidate, name)
    if (d < bestDistance && d <= Math.min(2, Math.floor(candidate.length / 2))) {
      best = candidate
      bestDistance = d
    }
  }
  return best
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length] as number
}

/** A logger is only called once something went wrong: check it when it is given, not at that moment. */
export function checkLogger(logger: unknown): Logger {
  const l = logger as Partial<Record<keyof Logger, unknown>> | null
  if (typeof l !== 'object' || l === null || typeof l.warn !== 'function' || typeof l.error !== 'function') {
    throw new InvalidArgumentError(`Expected \`logger\` to have warn() and error() methods (console does), got ${describe(logger)}`)
  }
  return logger as Logger
}
