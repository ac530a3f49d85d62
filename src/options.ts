import { InvalidArgumentError, describe } from './errors'

/**
 * Checks an options argument at the public boundary: undefined or a plain object whose keys are
 * all known. A misspelled key (`orderby`) is an error that suggests the right one.
 */
const NO_OPTIONS = Object.freeze({})

export function checkOptions<O extends object>(options: O | undefined, allowed: readonly string[], what: string): Partial<O> {
  if (options === undefined) return NO_OPTIONS
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`Expected the options of ${what} to be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue
    const near = allowed.find((a) => a.toLowerCase() === key.toLowerCase() || distance(a, key) <= 2)
    const hint = near === undefined ? `Known options: ${allowed.join(', ')}` : `Did you mean \`${near}\`?`
    throw new InvalidArgumentError(`Unknown option \`${key}\` for ${what}. ${hint}`)
  }
  return options
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
