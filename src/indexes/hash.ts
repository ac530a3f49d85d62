import { canonical } from '../values/canonical'
import type { Row } from '../storage/row'
import { addTo, pushRows, removeFrom, sizeOf, type Bucket } from './bucket'
import type { Index } from './types'

/** Equality index: canonical value → the rows with that value (a lone row or a Set of them). */
export class HashIndex implements Index {
  readonly type = 'hash' as const
  readonly #buckets = new Map<unknown, Bucket>()

  constructor(
    readonly field: string,
    readonly unique: boolean,
  ) {}

  add(row: Row, value: unknown): void {
    const key = canonical(value)
    const bucket = this.#buckets.get(key)
    // A Set grows in place: only a new or a first-shared value writes the Map.
    if (bucket instanceof Set) bucket.add(row)
    else this.#buckets.set(key, addTo(bucket, row))
  }

  remove(row: Row, value: unknown): void {
    const key = canonical(value)
    const bucket = this.#buckets.get(key)
    if (bucket === undefined) return
    const left = removeFrom(bucket, row)
    if (left === undefined) this.#buckets.delete(key)
    else if (left !== bucket) this.#buckets.set(key, left)
  }

  eq(value: unknown, out: Row[]): void {
    const bucket = this.#buckets.get(canonical(value))
    if (bucket !== undefined) pushRows(bucket, out, Infinity)
  }

  countEq(value: unknown): number {
    return sizeOf(this.#buckets.get(canonical(value)))
  }

  entries(): Array<[unknown, Row]> {
    const out: Array<[unknown, Row]> = []
    const rows: Row[] = []
    for (const bucket of this.#buckets.values()) pushRows(bucket, rows, Infinity)
    for (const row of rows) out.push([row.rec[this.field], row])
    return out
  }
}
