/** Comparison operators on one field against one value. */
export type CompareOp = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte'
/** String operators on one field against one string. */
export type StringOp =
  | 'like'
  | 'ilike'
  | 'startsWith'
  | 'endsWith'
  | 'contains'
  | 'iequals'
  | 'icontains'
  | 'istartsWith'
  | 'iendsWith'

/**
 * A condition as plain, serializable data (except `fn` leaves). Built by {@link Field} methods
 * and `and/or/not`; compiled once per query by `compile`.
 */
export type ConditionNode =
  | { readonly op: CompareOp; readonly field: string; readonly value: unknown }
  | { readonly op: StringOp; readonly field: string; readonly value: unknown }
  | { readonly op: 'in'; readonly field: string; readonly values: readonly unknown[] }
  | { readonly op: 'between'; readonly field: string; readonly lo: unknown; readonly hi: unknown }
  | { readonly op: 'isNull' | 'isNotNull'; readonly field: string }
  | { readonly op: 'and' | 'or'; readonly items: readonly ConditionNode[] }
  | { readonly op: 'not'; readonly item: ConditionNode }
  | { readonly op: 'fn'; readonly fn: (row: never) => unknown }
  | { readonly op: 'true' }
