import type { Database } from '../database'
import { InvalidArgumentError, describe } from '../errors'
import { increment } from '../operators'
import { checkName } from '../options'
import type { Table } from '../table'
import { systemTable } from './system-table'
import { shortName } from '../values/describe'

/** A counter's stored state: one record of the system table `_counters`. */
interface CounterRecord {
  id: string
  value: number
}

const TABLE = '_counters'

/**
 * A named integer kept in the database (system table `_counters`): `add` is atomic across
 * async callers and workers, and rolls back with the transaction around it.
 *
 * @example
 * ```ts
 * const hits = db.counter('hits')
 * hits.add(1)    // 1
 * hits.add(10)   // 11
 * hits.value     // 11
 * ```
 */
export class Counter {
  /** The counter name. */
  readonly name: string
  readonly #db: Database

  /** @internal Counters are opened with `db.counter(name)`. */
  constructor(db: Database, name: string) {
    this.#db = db
    this.name = name
  }

  /** Adds `n` (a safe integer, may be negative; default 1) and returns the new value. */
  add(n = 1): number {
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`Expected counter.add() to take a safe integer, got ${describe(n)}`)
    systemTable(this.#db, TABLE)
    return this.#db.transaction(
      () => {
        const table = this.#table()
        const row = table.get(this.name)
        const value = (row?.value ?? 0) + n
        if (!Number.isSafeInteger(value)) {
          throw new InvalidArgumentError(`Counter \`${shortName(this.name)}\` would leave the safe integer range (${row?.value} + ${n})`, { table: TABLE, key: this.name })
        }
        if (row === undefined) table.insert({ id: this.name, value })
        else table.update({ value: increment(n) }, { id: this.name })
        return value
      },
      { tables: [TABLE] },
    )
  }

  /** The current value (0 before the first `add`). */
  get value(): number {
    return this.#db.hasTable(TABLE) ? (this.#table().get(this.name)?.value ?? 0) : 0
  }

  #table(): Table<CounterRecord> {
    return this.#db.getTable<CounterRecord>(TABLE)
  }
}

/** Opens (creating on first use) the counter `name`, starting at 0. */
export function openCounter(db: Database, name: string): Counter {
  checkName(name, 'name')
  systemTable<CounterRecord>(db, TABLE).getOrCreate({ id: name }, { value: 0 })
  return new Counter(db, name)
}
