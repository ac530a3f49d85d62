import { brand, isInstance } from './brand'
import { InvalidArgumentError, describe } from './errors'
import { shortName } from './values/describe'

/** An atomic update operator: adds `by` to the stored value inside the table's write lock. */
export class Increment {
  /** Also true for an `increment()` of the other build (ESM or CommonJS) in the same process. */
  static [Symbol.hasInstance](value: unknown): boolean {
    // This build's own instances by their private field (V8's cheapest check: an update with an
    // increment asks twice, and `isInstance` costs about 40 ns), any other through the brand. A
    // Date (a value an update often sets: every sequence.next()) is never one, and is told apart
    // at once (`isInstance` took ~80 ns for it, twice per update).
    return (typeof value === 'object' && value !== null && #by in value) || (!(value instanceof Date) && isInstance(Increment, value))
  }

  // Read-only through a private field, not `Object.freeze`: freezing cost more than the rest of
  // `increment()` (an update by key makes one per call).
  readonly #by: number | bigint

  constructor(by: number | bigint) {
    if (!(typeof by === 'bigint' || (typeof by === 'number' && Number.isFinite(by)))) {
      throw new InvalidArgumentError(`Expected increment() to take a finite number or a bigint, got ${describe(by)}`)
    }
    this.#by = by
  }

  /** How much is added. */
  get by(): number | bigint {
    return this.#by
  }

  /** The new value of `field` given its stored value (missing or null counts as 0). */
  applyTo(current: unknown, field: string, table: string): number | bigint {
    if (current == null) return this.#by
    if (typeof current === 'number' && typeof this.#by === 'number') {
      const next = current + this.#by
      if (!Number.isFinite(next)) throw new InvalidArgumentError(`increment() of \`${shortName(field)}\` overflows to ${next}`, { table, field })
      return next
    }
    if (typeof current === 'bigint' && typeof this.#by === 'bigint') return current + this.#by
    throw new InvalidArgumentError(`Cannot increment \`${shortName(field)}\` by ${describe(this.#by)}: its value is ${describe(current)}`, { table, field })
  }
}

brand(Increment, 'Increment')

/**
 * Atomic increment for `update` (the `F('balance') + x` of Django): `n` may be negative.
 * A missing or null field counts as 0.
 * @example `accounts.update({ balance: increment(-250) }, { id: 'alice' })`
 */
export function increment(n: number | bigint): Increment {
  return new Increment(n)
}
