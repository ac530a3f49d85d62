import type { FieldType } from '../schema'
import { jsonForm } from './canonical-form'
import { untag } from './json-values'

/*
 * Cells ⇄ values. A CSV cell is text; dictdb fields are typed. On export: strings as they are,
 * numbers/booleans/bigints as their text (-0 as `-0`), a Date as its ISO string, an object or array as JSON
 * (Dates and bigints tagged as in JSON files), null or a missing field as an empty unquoted
 * cell, and an empty string as `""` — so the two stay apart on import.
 */

/** The cell text of a stored value; null for an empty (missing) cell. */
export function toCell(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  // String(-0) is '0'; '-0' reads back as -0.
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  if (value instanceof Date) return value.toISOString()
  return JSON.stringify(jsonForm(value))
}

const NUMBER = /^[-+]?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?$/
const LOOSE_NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/
const INTEGER_TEXT = /^[-+]?\d+$/

/**
 * The value type inference gives a cell: `true`/`false` (any case) a boolean; a decimal number
 * without leading zeros (so `007` and zip codes stay text) a number, when exact; `{…}`/`[…]`
 * that parse as JSON an object or array; anything else the string itself. Dates are not guessed
 * (give a schema with `'date'`).
 */
export function inferCell(text: string): unknown {
  const lower = text.length <= 5 ? text.toLowerCase() : ''
  if (lower === 'true') return true
  if (lower === 'false') return false
  if (NUMBER.test(text)) {
    const n = Number(text)
    // An integer past 2^53 would not come back as written: keep the text.
    if (Number.isFinite(n) && (!/^[-+]?\d+$/.test(text) || Number.isSafeInteger(n))) return n
    return text
  }
  const first = text.charCodeAt(0)
  if (first === 0x7b /* { */ || first === 0x5b /* [ */) return parseJson(text) ?? text
  return text
}

/**
 * The value of a cell for a schema field type; when the text does not convert, the text
 * itself, so that the schema's own check reports the field and the value.
 */
export function castCell(text: string, type: FieldType): unknown {
  switch (type) {
    case 'string':
      return text
    case 'number':
    case 'integer': {
      const t = text.trim()
      return LOOSE_NUMBER.test(t) && Number.isFinite(Number(t)) ? Number(t) : text
    }
    case 'boolean': {
      const t = text.trim().toLowerCase()
      return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : text
    }
    case 'bigint':
      return INTEGER_TEXT.test(text.trim()) ? BigInt(text.trim()) : text
    case 'date': {
      const date = new Date(text.trim())
      return text.trim() !== '' && !Number.isNaN(date.getTime()) ? date : text
    }
    case 'object':
    case 'array':
      return parseJson(text) ?? text
  }
}

function parseJson(text: string): unknown {
  try {
    return untag(JSON.parse(text))
  } catch {
    return undefined // not JSON: the caller keeps the text
  }
}
