import { InvalidArgumentError, describe } from '../errors'
import { checkName, checkOptions } from '../options'
import type { Validator } from '../schema'
import { ttlOf, type DatabaseState } from '../storage/change'
import type { Rec } from '../values/types'
import { shortName } from '../values/describe'
import { fieldOf } from '../values/own-field'

/** The `ttl` option of `createTable`: from insert time (`ms`), or a Date/epoch-ms `field`. */
export type TtlOption = { ms: number; field?: string } | { field: string; ms?: number }

/**
 * A table's expiry rule, as its definition keeps it: records expire at the time in `field` (a
 * `Date` or epoch milliseconds; anything else never expires); with `ms`, an insert that does not
 * give that field gets `now + ms` in it.
 */
export interface TtlRule {
  readonly field: string
  readonly ms?: number
}

/** The field a `ttl: { ms }` table keeps each record's expiry time in, when none is named. */
export const DEFAULT_TTL_FIELD = 'expiresAt'

/** Checks the `ttl` option of `createTable` against the table's key and schema. */
export function checkTtl(ttl: unknown, primaryKey: string, validator: Validator | null): TtlRule {
  const opts = checkOptions(ttl as TtlOption, ['ms', 'field'], 'the `ttl` option')
  if (opts.ms === undefined && opts.field === undefined) {
    throw new InvalidArgumentError('Expected `ttl` to be { ms } (expire that long after insert) or { field } (a Date or epoch-ms field), got `{}`')
  }
  const field = opts.field === undefined ? DEFAULT_TTL_FIELD : checkName(opts.field, 'ttl.field')
  if (field === primaryKey) throw new InvalidArgumentError(`\`ttl.field\` cannot be the primary key \`${shortName(primaryKey)}\``, { field })
  const declared = validator?.fields
  if (declared != null && !declared.includes(field)) {
    throw new InvalidArgumentError(
      `The schema does not declare the expiry field \`${shortName(field)}\` of \`ttl\`: add it as { type: 'number', optional: true } (or 'date')`,
      { field },
    )
  }
  if (opts.ms === undefined) return { field }
  if (typeof opts.ms !== 'number' || !Number.isFinite(opts.ms) || opts.ms <= 0) {
    throw new InvalidArgumentError(`Expected \`ttl.ms\` to be a positive number of milliseconds, got ${describe(opts.ms)}`)
  }
  return { field, ms: opts.ms }
}

/** When a record with this expiry value expires (epoch ms), or Infinity when it never does. */
export function expiryTime(value: unknown): number {
  if (typeof value === 'number') return Number.isNaN(value) ? Infinity : value
  if (value instanceof Date) return value.getTime()
  return Infinity
}

/** Whether `rec` has expired at `now` under `rule`. */
export function isExpired(rule: TtlRule, rec: Rec, now: number): boolean {
  return expiryTime(fieldOf(rec, rule.field)) <= now
}

/**
 * Finds expired rows a bounded amount at a time: a sweep run looks at no more than `scan`
 * rows and takes no more than `batch`, resuming where the last run stopped.
 */
export class ExpiryScan {
  #cursor: Iterator<Rec> | null = null
  /** The earliest expiry still ahead among the rows looked at since the pass began. */
  #soonest = Infinity
  /** The earliest expiry found by the last complete pass (when the next sweep is worth it). */
  soonest = Infinity

  /** Up to `batch` expired rows of `rows()`, looking at up to `scan` rows; `more`: not done. */
  next(records: () => Iterator<Rec>, rule: TtlRule, now: number, scan: number, batch: number): { expired: Rec[]; more: boolean } {
    const expired: Rec[] = []
    this.#cursor ??= records()
    for (let seen = 0; seen < scan && expired.length < batch; seen++) {
      const step = this.#cursor.next()
      if (step.done === true) {
        this.#cursor = null
        this.soonest = this.#soonest
        this.#soonest = Infinity
        return { expired, more: false }
      }
      const at = expiryTime(fieldOf(step.value, rule.field))
      if (at <= now) expired.push(step.value)
      else if (at < this.#soonest) this.#soonest = at
    }
    return { expired, more: true }
  }
}

/**
 * `state` without the records that have expired at `now`: what `save` writes, so a saved file
 * holds what a read sees, and is byte for byte the file of the same table after the sweep.
 */
export function withoutExpired(state: DatabaseState, now = Date.now()): DatabaseState {
  if (!state.tables.some((t) => ttlOf(t.definition) !== undefined)) return state
  return {
    tables: state.tables.map((t) => {
      const rule = ttlOf(t.definition)
      return rule === undefined ? t : { ...t, records: t.records.filter((rec) => !isExpired(rule, rec, now)) }
    }),
  }
}
