import { InvalidArgumentError, describe, readingInput } from '../errors'
import { freezeCopy } from '../values/freeze'
import type { CompareOp, StringOp } from './ast'
import { Condition } from './condition'

/**
 * What a field of type `V` compares with: a value of its own type (null aside). A field of a
 * table without a type (`unknown`) compares with anything.
 *
 * @example
 * ```ts
 * type A = Operand<number | null | undefined>   // number: users.field('age').gt('forty') does not compile
 * ```
 */
export type Operand<V> = unknown extends V ? unknown : Exclude<V, null | undefined>

/**
 * What `contains` looks for: an element of an array field, a substring of a string field.
 * @example `type E = Element<string[]>   // string`
 */
export type Element<V> = unknown extends V ? unknown : NonNullable<V> extends readonly (infer E)[] ? E : NonNullable<V> extends string ? string : never

/**
 * A field of a table, to build conditions: `table.field('age').gte(18)`.
 * A comparison against a missing or null field, or across types, is false (as in SQL);
 * `eq(null)` means `isNull()` and `ne(null)` means `isNotNull()`.
 *
 * @example
 * ```ts
 * const name = users.field('name')
 * users.select({ where: name.ilike('a%').or(name.isNull()) })
 * ```
 */
export class Field<V = unknown> {
  /** The field name. */
  readonly name: string

  constructor(name: string) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError(`Expected a field name to be a non-empty string, got ${describe(name)}`)
    }
    this.name = name
  }

  /** Equal to `value` (`null`: is null or missing). */
  eq(value: Operand<V> | null): Condition {
    return value === null ? this.isNull() : this.#compare('eq', value)
  }
  /** Not equal to `value`; false on null or missing (`null`: is not null). */
  ne(value: Operand<V> | null): Condition {
    return value === null ? this.isNotNull() : this.#compare('ne', value)
  }
  /** Less than `value`. */
  lt(value: Operand<V>): Condition {
    return this.#compare('lt', value)
  }
  /** Less than or equal to `value`. */
  lte(value: Operand<V>): Condition {
    return this.#compare('lte', value)
  }
  /** Greater than `value`. */
  gt(value: Operand<V>): Condition {
    return this.#compare('gt', value)
  }
  /** Greater than or equal to `value`. */
  gte(value: Operand<V>): Condition {
    return this.#compare('gte', value)
  }
  /** Equal to one of `values`. */
  isIn(values: readonly (Operand<V> | null)[]): Condition {
    return readingInput('the argument of isIn()', () => {
      if (!Array.isArray(values)) throw new InvalidArgumentError(`Expected isIn() to take an array, got ${describe(values)}`)
      return new Condition({ op: 'in', field: this.name, values: Array.from(values, (v, i) => operand(`isIn()[${i}]`, v)) })
    })
  }
  /** Between `lo` and `hi`, both inclusive. */
  between(lo: Operand<V>, hi: Operand<V>): Condition {
    return new Condition({ op: 'between', field: this.name, lo: operand('between() lower bound', lo), hi: operand('between() upper bound', hi) })
  }
  /** SQL LIKE: `%` matches any run of characters, `_` exactly one; nothing else is special. */
  like(pattern: string): Condition {
    return this.#string('like', pattern)
  }
  /** Case-insensitive {@link Field.like}. */
  ilike(pattern: string): Condition {
    return this.#string('ilike', pattern)
  }
  /** A string field starting with `s`. */
  startsWith(s: string): Condition {
    return this.#string('startsWith', s)
  }
  /** A string field ending with `s`. */
  endsWith(s: string): Condition {
    return this.#string('endsWith', s)
  }
  /** Substring of a string field, or element of an array field. */
  contains(value: Element<V>): Condition {
    return new Condition({ op: 'contains', field: this.name, value: operand('contains()', value) })
  }
  /** Equal to `s`, ignoring case. */
  iequals(s: string): Condition {
    return this.#string('iequals', s)
  }
  /** Contains `s`, ignoring case. */
  icontains(s: string): Condition {
    return this.#string('icontains', s)
  }
  /** Starts with `s`, ignoring case. */
  istartsWith(s: string): Condition {
    return this.#string('istartsWith', s)
  }
  /** Ends with `s`, ignoring case. */
  iendsWith(s: string): Condition {
    return this.#string('iendsWith', s)
  }
  /** Null or missing. */
  isNull(): Condition {
    return new Condition({ op: 'isNull', field: this.name })
  }
  /** Present and not null. */
  isNotNull(): Condition {
    return new Condition({ op: 'isNotNull', field: this.name })
  }

  #compare(op: CompareOp, value: unknown): Condition {
    return new Condition({ op, field: this.name, value: operand(`${op}()`, value) })
  }

  #string(op: StringOp, value: unknown): Condition {
    if (typeof value !== 'string') throw new InvalidArgumentError(`Expected ${op}() to take a string, got ${describe(value)}`)
    return new Condition({ op, field: this.name, value })
  }
}

/** Checks a condition operand is a storable value (so it compares like one). */
function operand(what: string, value: unknown): unknown {
  if (value === undefined) throw new InvalidArgumentError(`Expected ${what} to take a value, got \`undefined\` (use null for missing)`)
  return readingInput(`the argument of ${what}`, () => freezeCopy(value, what))
}
