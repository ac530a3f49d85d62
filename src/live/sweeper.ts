import { randomUUID } from 'node:crypto'
import type { Database } from '../database'
import { systemTable } from '../helpers/system-table'
import type { Table } from '../table'
import { ExpiryScan } from './ttl'

/** How often a sweep runs when nothing is known to expire sooner. */
export const SWEEP_INTERVAL_MS = 1000
/** Bounds on one run's work, so that a sweep never stalls the event loop for long. */
const SCAN_PER_RUN = 5_000
const DELETES_PER_RUN = 500
/** The system table holding the sweep lease of a shared or connected database. */
const LEASE_TABLE = '_ttl_sweeper'
const LEASE_MS = 10 * SWEEP_INTERVAL_MS

interface Lease {
  id: string
  owner: string
  until: number
}

/**
 * Deletes expired records through the one write path (listeners, backups, replicas and watches
 * see the deletions), on an unref'd timer, a bounded batch per run. In a database shared across
 * threads or processes, a lease kept in a system table, taken in the same transaction as the
 * deletions, makes exactly one sweeper delete at a time; the others only look at the lease.
 */
export class Sweeper {
  readonly #db: Database
  readonly #shared: boolean
  readonly #report: (error: unknown) => void
  readonly #id = randomUUID()
  readonly #scans = new WeakMap<Table<any>, ExpiryScan>()
  #timer: NodeJS.Timeout | null = null
  #running = false
  #stopped = false

  constructor(db: Database, shared: boolean, report: (error: unknown) => void) {
    this.#db = db
    this.#shared = shared
    this.#report = report
  }

  /** Starts sweeping (a table with `ttl` appeared); does nothing if already started. */
  start(): void {
    if (this.#timer === null && !this.#running && !this.#stopped) this.#schedule(SWEEP_INTERVAL_MS)
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
  }

  /** One sweep run over every table with `ttl`; resolves with how many records it deleted. */
  async run(): Promise<number> {
    this.#running = true
    let next = SWEEP_INTERVAL_MS
    let deleted = 0
    let tables: Table<any>[] = []
    try {
      tables = this.#tables()
      for (const table of tables) {
        const { count, more, soonest } = await this.#sweep(table)
        deleted += count
        next = more ? 0 : Math.min(next, Math.max(1, soonest - Date.now()))
      }
    } catch (error) {
      if (!this.#stopped) this.#report(error)
    } finally {
      this.#running = false
      // With no table left to sweep, the sweeper sleeps until one appears (start()).
      if (!this.#stopped && this.#timer === null && tables.length > 0) this.#schedule(next)
    }
    return deleted
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = null
      void this.run()
    }, ms)
    this.#timer.unref()
  }

  #tables(): Table<any>[] {
    if (this.#stopped) return []
    return this.#db
      .listTables()
      .map((name) => this.#db.getTable(name))
      .filter((table) => table.definition().ttl !== undefined)
  }

  async #sweep(table: Table<any>): Promise<{ count: number; more: boolean; soonest: number }> {
    let scan = this.#scans.get(table)
    if (scan === undefined) this.#scans.set(table, (scan = new ExpiryScan()))
    const lease = this.#shared ? await this.#leaseTable() : null
    const now = Date.now()
    if (lease !== null && heldElsewhere(lease.get('sweeper'), this.#id, now)) return { count: 0, more: false, soonest: now + LEASE_MS }
    let more = false
    const found = scan
    const count = await this.#db.transactionAsync(() =>
      table.deleteExpired(
        (store) => {
          const step = found.next(() => store.records(), store.ttl ?? { field: '' }, now, SCAN_PER_RUN, DELETES_PER_RUN)
          more = step.more
          return step.expired
        },
        () => lease === null || this.#takeLease(lease, now),
      ),
    )
    return { count, more, soonest: scan.soonest }
  }

  /** The lease table, created on first use (a connected database writes only in transactionAsync). */
  async #leaseTable(): Promise<Table<Lease>> {
    if (this.#db.hasTable(LEASE_TABLE)) return this.#db.getTable<Lease>(LEASE_TABLE)
    return this.#db.transactionAsync(() => systemTable<Lease>(this.#db, LEASE_TABLE))
  }

  /** Takes or renews the lease (inside the sweep's transaction); false if another sweeper holds it. */
  #takeLease(lease: Table<Lease>, now: number): boolean {
    const held = lease.get('sweeper')
    if (heldElsewhere(held, this.#id, now)) return false
    if (held === undefined || held.owner !== this.#id || held.until - now < LEASE_MS / 2) {
      lease.upsert({ id: 'sweeper', owner: this.#id, until: now + LEASE_MS })
    }
    return true
  }
}

function heldElsewhere(lease: Lease | undefined, id: string, now: number): boolean {
  return lease !== undefined && lease.owner !== id && lease.until > now
}
