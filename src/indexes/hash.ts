import { canonical } from '../values/canonical'
import type { Row } from '../storage/row'
import type { Index } from './types'

/** Equality index: canonical value → rows with that value. */
export class HashIndex implements Index {
  readonly type = 'hash' as const
  readonly #buckets = new Map<unknown, Set<Row>>()

  constructor(
    readonly field: string,
    readonly unique: boolean,
  ) {}

  add(row: Row, value: unknown): void {
    const key = canonical(value)
    const bucket = this.#buckets.get(key)
    if (bucket === undefined) this.#buckets.set(key, new Set([row]))
    else bucket.add(row)
  }

  remove(row: Row, value: unknown): void {
    const key = canonical(value)
    const bucket = this.#buckets.get(key)
    if (bucket === undefined) return
    bucket.delete(row)
    if (bucket.size === 0) this.#buckets.delete(key)
  }

  eq(value: unknown, out: Row[]): void {
    const bucket = this.#buckets.get(canonical(value))
    if (bucket !== undefined) for (const row of bucket) out.push(row)
  }

  countEq(value: unknown): number {
    return this.#buckets.get(canonical(value))?.size ?? 0
  }

  entries(): Array<[unknown, Row]> {
    const out: Array<[unknown, Row]> = []
    for (const bucket of this.#buckets.values()) for (const row of bucket) out.push([row.rec[this.field], row])
    return out
  }
}
