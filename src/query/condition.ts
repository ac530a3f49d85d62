import { brand, isInstance } from '../brand'
import { InvalidArgumentError, describe } from '../errors'
import { jsonForm } from '../persist/canonical-form'
import type { ConditionNode } from './ast'
import { nodeFromJSON } from './condition-json'

/**
 * A query condition. Build one with `table.field(name)` methods and combine with
 * `and/or/not` (functions or methods). Its `node` is plain data (an AST).
 *
 * @example
 * ```ts
 * const age = users.field('age'), city = users.field('city')
 * users.select({ where: age.gte(18).and(city.isIn(['Paris', 'Lyon'])) })
 * ```
 */
export class Condition {
  /** Also true for a condition made by the other build (ESM or CommonJS) in the same process. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return isInstance(Condition, value)
  }

  /**
   * Rebuilds a condition from its JSON form — the text of `JSON.stringify(condition)`, or that
   * text parsed — checking every node. Anything else is an `InvalidArgumentError`.
   *
   * @example
   * ```ts
   * const stored = JSON.stringify(users.field('age').gte(18))
   * users.select({ where: Condition.from(stored) })
   * ```
   */
  static from(json: unknown): Condition {
    return new Condition(nodeFromJSON(json))
  }

  /** The condition as plain data. */
  readonly node: ConditionNode

  constructor(node: ConditionNode) {
    this.node = node
    Object.freeze(this)
  }

  /** Both this and every other condition hold. */
  and(...others: Condition[]): Condition {
    return and(this, ...others)
  }

  /** This or any other condition holds. */
  or(...others: Condition[]): Condition {
    return or(this, ...others)
  }

  /** This condition does not hold. */
  not(): Condition {
    return not(this)
  }

  /**
   * The JSON form: the node, with `Date` and `bigint` values tagged as in dictdb's JSON files
   * (`{"$date": "…"}`, `{"$bigint": "…"}`), so that {@link Condition.from} gives them back.
   */
  toJSON(): unknown {
    return jsonForm(this.node)
  }
}
brand(Condition, 'Condition')

/**
 * All conditions hold (one or more).
 * @example `users.select({ where: and(age.gte(18), city.eq('Paris')) })`
 */
export function and(...conditions: Condition[]): Condition {
  return new Condition({ op: 'and', items: nodesOf('and', conditions) })
}

/**
 * At least one condition holds (one or more).
 * @example `users.select({ where: or(city.eq('Paris'), city.eq('Lyon')) })`
 */
export function or(...conditions: Condition[]): Condition {
  return new Condition({ op: 'or', items: nodesOf('or', conditions) })
}

/**
 * The condition does not hold.
 * @example `users.select({ where: not(city.eq('Paris')) })`
 */
export function not(condition: Condition): Condition {
  // A second condition would be ignored: `not(a, b)` reads as not(a and b) or not(a or b).
  if (arguments.length > 1) {
    throw new InvalidArgumentError(`not() takes one condition, got ${arguments.length}: write not(and(…)) or not(or(…))`)
  }
  if (!(condition instanceof Condition)) {
    throw new InvalidArgumentError(`Expected not() to take a Condition, got ${describe(condition)}`)
  }
  return new Condition({ op: 'not', item: condition.node })
}

function nodesOf(name: string, conditions: Condition[]): ConditionNode[] {
  if (conditions.length === 0) throw new InvalidArgumentError(`${name}() takes one or more conditions, got none`)
  return conditions.map((c, i) => {
    if (!(c instanceof Condition)) {
      throw new InvalidArgumentError(`Expected argument ${i + 1} of ${name}() to be a Condition, got ${describe(c)}`)
    }
    return c.node
  })
}
