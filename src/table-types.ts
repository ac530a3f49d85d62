import type { IndexType } from './indexes/types'
import type { Increment } from './operators'
import type { Aggregation } from './query/aggregate'
import type { Key } from './values/types'

/*
 * The types a `Table<T, K>` derives from its record type `T` and its primary key field `K`, so
 * that what the compiler says about a call is what the call does at run time.
 */

/**
 * The key type of a table: the type of `T`'s primary key field `K` when it is a string or a
 * number type, else any {@link Key}.
 *
 * @example
 * ```ts
 * type A = KeyOf<{ id?: number; name: string }, 'id'>   // number
 * type B = KeyOf<{ sku: string }, 'sku'>                 // string
 * type C = KeyOf<Record<string, unknown>, 'id'>          // string | number
 * ```
 */
export type KeyOf<T, K extends string> = K extends keyof T ? ([Extract<NonNullable<T[K]>, Key>] extends [never] ? Key : Extract<NonNullable<T[K]>, Key>) : Key

/**
 * Field changes for `update`: new values, `null` to clear, or `increment(n)` on a number or
 * bigint field.
 *
 * @example
 * ```ts
 * const changes: Changes<{ name: string; visits: number }> = { visits: increment(1) }
 * ```
 */
export type Changes<T> = { [F in keyof T]?: T[F] | null | (NonNullable<T[F]> extends number | bigint ? Increment : never) }

/**
 * What `upsert` did, and to which key.
 *
 * @example
 * ```ts
 * const { key, action } = users.upsert({ id: 1, name: 'Ada' })   // action: 'inserted' | 'updated' | 'ignored'
 * ```
 */
export interface UpsertResult<K extends Key = Key> {
  key: K
  action: 'inserted' | 'updated' | 'ignored'
}

/**
 * How a query will find its rows (`table.explain(where)`).
 *
 * @example
 * ```ts
 * users.explain(users.field('city').eq('Paris'))   // { strategy: 'index', field: 'city', indexType: 'hash', ... }
 * ```
 */
export interface QueryPlan {
  /** `primaryKey` lookup, one `index`, a `union` of indexed branches, or a full `scan`. */
  strategy: 'primaryKey' | 'index' | 'union' | 'scan'
  /** The field whose index (or primary key) is used. */
  field?: string
  indexType?: IndexType
  /** How many rows the plan will examine before filtering. */
  estimatedCandidates: number
  totalRecords: number
}

/** A projected value: a missing field comes back as `null`. */
type Projected<V> = undefined extends V ? Exclude<V, undefined> | null : V

/**
 * The rows of `select({ columns })`: the listed fields (`['name']`), or the aliases of an
 * `{ alias: 'field' }` map, each with the type of its field.
 *
 * @example
 * ```ts
 * type Row = Projection<{ id: number; name: string; age?: number }, ['name', 'age']>   // { name: string; age: number | null }
 * ```
 */
export type Projection<T, C> = C extends readonly (infer F)[]
  ? { -readonly [P in F & keyof T]-?: Projected<T[P]> }
  : { -readonly [A in keyof C]-?: C[A] extends keyof T ? Projected<T[C[A]]> : unknown }

/** The value one aggregation gives, for records `T`. */
export type AggregateValue<T, A> =
  A extends Aggregation<'count', infer _F>
    ? number
    : A extends Aggregation<'avg', infer _F>
      ? number | null
      : A extends Aggregation<'sum', infer F>
        ? SumOf<FieldType<T, F>> | null
        : A extends Aggregation<'min' | 'max', infer F>
          ? NonNullable<FieldType<T, F>> | null
          : unknown

type FieldType<T, F> = F extends keyof T ? T[F] : unknown
type SumOf<V> = [NonNullable<V>] extends [bigint] ? bigint : [NonNullable<V>] extends [number] ? number : number | bigint

/**
 * One row of `aggregate(aggregations)`: each name with the type of its aggregation.
 *
 * @example
 * ```ts
 * const row: AggregateRow<User, { n: Aggregation<'count'>; avgAge: Aggregation<'avg', 'age'> }> = users.aggregate({ n: count(), avgAge: avg('age') })
 * ```
 */
export type AggregateRow<T, A> = { -readonly [N in keyof A]: AggregateValue<T, A[N]> }

/** One row of `aggregate(aggregations, { groupBy })`: the group fields, then the aggregations. */
export type GroupRow<T, A, G extends keyof T> = { -readonly [P in G]-?: Exclude<T[P], undefined> | null } & AggregateRow<T, A>
