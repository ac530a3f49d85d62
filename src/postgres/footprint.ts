import type { Catalog } from '../catalog'
import type { RWLock } from '../locks/types'
import type { Op } from '../storage/change'
import type { Key } from '../values/types'

/** Above this many records of one table in one commit, the commit marks the table, not each key. */
const BULK = 64

/**
 * What a batch of transactions read and wrote, as the items a commit is validated by (the
 * read/write-set check of FoundationDB and of optimistic concurrency in general): a commit based
 * on log position `base` stands only if no commit after `base` wrote an item it read. Items:
 * - `["k", table, key]`: one record, read by key (`get`, `update` by key) or written;
 * - `["t", table]`: anything of the table; read by a whole-table read (a query, a scan, a count,
 *   an insert, whose key or unique values depend on other records), written by every write to it;
 * - `["b", table]`: written by a bulk write or a schema change of the table, read with every key
 *   read of it (a bulk write does not list its keys);
 * - `["c"]`: the catalog; read by every transaction, written by every schema change.
 * A written record counts as read (its new value may depend on the old).
 */
export class Footprint {
  readonly #catalog: Catalog
  readonly #tables = new Map<RWLock, string>()
  /** Records read by key, per table: past BULK, the table is read whole. */
  readonly #keyReads = new Map<string, number>()
  readonly reads = new Set<string>()

  constructor(catalog: Catalog) {
    this.#catalog = catalog
    this.clear()
  }

  /** Forgets the reads (a batch runs again, or the next one begins). */
  clear(): void {
    this.reads.clear()
    this.reads.add(CATALOG)
    this.#keyReads.clear()
  }

  /** A read, from `SharedSync.track`. */
  read(lock: RWLock, key: Key | undefined): void {
    const table = this.#tableOf(lock)
    if (table === undefined) return // not a table's lock: the catalog, read by every transaction
    const count = key === undefined ? BULK : (this.#keyReads.get(table) ?? 0) + 1
    this.#keyReads.set(table, count)
    const items = itemsOf(table)
    if (count >= BULK) this.reads.add(items.table)
    else this.reads.add(items.key(key as Key)).add(items.bulk)
  }

  /**
   * The items `commits` write (each once). A written record, and a changed schema, count as read
   * too; the table item a record write bumps does not (writes to other records of the table do
   * not conflict with it).
   */
  writes(commits: readonly (readonly Op[])[]): string[] {
    const keys = new Map<string, Set<Key>>()
    const items = new Set<string>()
    for (const ops of commits) {
      for (const op of ops) {
        if (op.type === 'record') {
          let set = keys.get(op.table)
          if (set === undefined) keys.set(op.table, (set = new Set()))
          set.add(op.key)
        } else for (const schema of [CATALOG, itemsOf(op.table).table, itemsOf(op.table).bulk]) items.add(schema), this.reads.add(schema)
      }
    }
    for (const [table, set] of keys) {
      const of = itemsOf(table)
      items.add(of.table)
      // A bulk write went through a whole-table call, which read the table already.
      if (set.size > BULK) items.add(of.bulk)
      else {
        for (const key of set) {
          const written = of.key(key)
          this.reads.add(written)
          items.add(written)
        }
      }
    }
    return [...items]
  }

  #tableOf(lock: RWLock): string | undefined {
    let table = this.#tables.get(lock)
    if (table === undefined) {
      // A table created (or created again) since: the map is made again from the catalog.
      this.#tables.clear()
      for (const ctx of this.#catalog.contexts()) this.#tables.set(ctx.lock, ctx.name)
      table = this.#tables.get(lock)
    }
    return table
  }
}

/** The items of one table: made once per table name (a commit makes several). */
interface TableItems {
  readonly table: string
  readonly bulk: string
  key(key: Key): string
}

const CATALOG = JSON.stringify(['c'])
const tableItems = new Map<string, TableItems>()

/** Items are JSON arrays: `["k",table,key]` is `JSON.stringify(['k', table, key])`. */
function itemsOf(table: string): TableItems {
  let items = tableItems.get(table)
  if (items === undefined) {
    const keyPrefix = `["k",${JSON.stringify(table)},`
    items = { table: JSON.stringify(['t', table]), bulk: JSON.stringify(['b', table]), key: (key) => `${keyPrefix}${JSON.stringify(key)}]` }
    if (tableItems.size > 10_000) tableItems.clear() // bounded: table names come and go
    tableItems.set(table, items)
  }
  return items
}
