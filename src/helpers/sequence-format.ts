import { InvalidArgumentError, describe } from '../errors'
import { shortName } from '../values/describe'

/** A format function: the number taken and the date it was taken at → the id. */
export type FormatFunction = (n: number, date: Date) => string

/** When a sequence restarts at 1: when the year, month or day of its clock changes, or never. */
export type ResetPeriod = 'yearly' | 'monthly' | 'daily' | 'never'

export const RESET_PERIODS: readonly ResetPeriod[] = ['yearly', 'monthly', 'daily', 'never']

type DatePart = 'YYYY' | 'MM' | 'DD'
/** A parsed template: literal text, the zero-padded number, or a part of the date. */
type Part = { readonly text: string } | { readonly width: number } | { readonly date: DatePart }

/** The date parts a reset period needs in the format, or the same id would come back. */
const NEEDS: Record<ResetPeriod, readonly DatePart[]> = {
  never: [],
  yearly: ['YYYY'],
  monthly: ['YYYY', 'MM'],
  daily: ['YYYY', 'MM', 'DD'],
}

/**
 * A compiled format template such as `PRO-{YYYY}-{0000}`: `{0000}` is the number zero-padded to
 * at least that many digits (`{0}`: no padding), `{YYYY}`, `{MM}`, `{DD}` the date (local time).
 * Braces are only for placeholders.
 */
export class Template {
  readonly text: string
  readonly #parts: readonly Part[]

  constructor(text: string) {
    this.text = text
    this.#parts = parse(text)
  }

  /** Throws unless the template shows every date part the reset period restarts on. */
  checkReset(reset: ResetPeriod, sequence: string): void {
    const missing = NEEDS[reset].filter((p) => !this.#parts.some((part) => 'date' in part && part.date === p))
    if (missing.length > 0) {
      throw new InvalidArgumentError(
        `Sequence \`${shortName(sequence)}\` restarts at 1 ${reset}, so its format must show {${missing.join('}, {')}}: ` +
          `otherwise '${shortName(this.text)}' would hand out the same id again after a reset`,
      )
    }
  }

  /** The id of number `n` taken at `date`. */
  render(n: number, date: Date): string {
    let out = ''
    for (const part of this.#parts) {
      if ('text' in part) out += part.text
      else if ('width' in part) out += String(n).padStart(part.width, '0')
      else out += datePart(date, part.date)
    }
    return out
  }
}

function parse(text: string): Part[] {
  const parts: Part[] = []
  let numbers = 0
  let last = 0
  for (const match of text.matchAll(/\{([^{}]*)\}/g)) {
    const literal = text.slice(last, match.index)
    if (literal !== '') parts.push({ text: literal })
    const inner = match[1] as string
    if (/^0+$/.test(inner)) {
      parts.push({ width: inner.length })
      numbers++
    } else if (inner === 'YYYY' || inner === 'MM' || inner === 'DD') {
      parts.push({ date: inner })
    } else {
      throw new InvalidArgumentError(`Unknown placeholder {${shortName(inner)}} in sequence format '${shortName(text)}': expected {0000}, {YYYY}, {MM} or {DD}`)
    }
    last = match.index + match[0].length
  }
  const tail = text.slice(last)
  if (tail !== '') parts.push({ text: tail })
  if (parts.some((p) => 'text' in p && /[{}]/.test(p.text))) {
    throw new InvalidArgumentError(`Unbalanced brace in sequence format '${shortName(text)}': braces are only for placeholders such as {0000}`)
  }
  if (numbers !== 1) {
    throw new InvalidArgumentError(`Expected sequence format '${shortName(text)}' to show the number exactly once, as {0000} (or {0}), found ${numbers}`)
  }
  return parts
}

function datePart(date: Date, part: DatePart): string {
  if (part === 'YYYY') return String(date.getFullYear()).padStart(4, '0')
  return String(part === 'MM' ? date.getMonth() + 1 : date.getDate()).padStart(2, '0')
}

/** The period `date` falls in for `reset` (`'2026'`, `'2026-03'`, `'2026-03-14'`), null for never. */
export function periodOf(date: Date, reset: ResetPeriod): string | null {
  if (reset === 'never') return null
  const year = datePart(date, 'YYYY')
  if (reset === 'yearly') return year
  const month = `${year}-${datePart(date, 'MM')}`
  return reset === 'monthly' ? month : `${month}-${datePart(date, 'DD')}`
}

/** Checks a `reset` option. */
export function checkReset(value: unknown): ResetPeriod {
  if (!RESET_PERIODS.includes(value as ResetPeriod)) {
    throw new InvalidArgumentError(`Expected \`reset\` to be 'yearly', 'monthly', 'daily' or 'never', got ${describe(value)}`)
  }
  return value as ResetPeriod
}

/** Calls the clock and checks that it gave a valid Date. */
export function readClock(now: () => Date): Date {
  const date = now()
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(`Expected the \`now\` clock to return a valid Date, got ${describe(date)}`)
  }
  return date
}
