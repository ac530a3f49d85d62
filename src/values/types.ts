/** A primary key: a string or a finite number (auto-assigned keys are integers 1, 2, 3…). */
export type Key = string | number

/** A value that can be stored in a field: JSON-like, plus `Date` and `bigint`. */
export type Value =
  | string
  | number
  | boolean
  | null
  | bigint
  | Date
  | readonly Value[]
  | { readonly [field: string]: Value }

/** A stored record: a deep-frozen plain object. */
export type Rec = Readonly<Record<string, unknown>>
