import type pg from 'pg'
import type { Catalog } from '../catalog'
import { ConnectionError, DictDBError, InvalidStateError } from '../errors'
import type { RWLock } from '../locks/types'
import type { Op } from '../storage/change'
import type { Key } from '../values/types'
import { isConnectionLoss } from './connection'
import { Footprint } from './footprint'
import { shortName } from '../values/describe'

/** One `transactionAsync` call waiting for, or in, a commit of the head. */
export interface Call {
  readonly run: () => unknown
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
  readonly deadline: number
  /** Change sets its local transaction committed (one, or none for a read-only body). */
  commits: Op[][]
  result: unknown
  /** What its body threw on the last run (settled only once that run's state is known current). */
  error: unknown
  failed: boolean
  /** Settled already. */
  done: boolean
}

/** Runs the bodies of a batch, each in its own local transaction, and keeps what they read and wrote. */
export class Bodies {
  /** The call whose body is running: the only place a write may happen. */
  #current: Call | null = null
  /** What the batch's bodies read and wrote (on their last run). */
  readonly footprint: Footprint

  constructor(catalog: Catalog) {
    this.footprint = new Footprint(catalog)
  }

  /** The change set a body's local transaction committed (`SharedSync.append`). */
  append(ops: readonly Op[]): void {
    const call = this.#current
    if (call === null) {
      throw new InvalidStateError(
        `${writeName(ops[0])} outside a transaction: a connected database is written only inside one, use \`await db.transactionAsync(() => ...)\``,
      )
    }
    call.commits.push(ops.slice())
  }

  /** A read by a body (`SharedSync.track`). */
  track(lock: RWLock, key: Key | undefined): void {
    if (this.#current !== null) this.footprint.read(lock, key)
  }

  /** Runs the bodies not settled yet; the change sets of those that committed. */
  run(batch: Call[]): Op[][] {
    const commits: Op[][] = []
    this.footprint.clear()
    for (const call of batch) {
      if (call.done) continue
      call.commits = []
      call.failed = false
      this.#current = call
      try {
        call.result = call.run()
      } catch (error) {
        // Not settled yet: on a replica found stale afterwards, the body runs again.
        call.failed = true
        call.error = error
      } finally {
        this.#current = null
      }
      commits.push(...call.commits)
    }
    return commits
  }
}

/** What a refused write was, for its error: "An insert into `users`", "createTable `t`". */
function writeName(op: Op | undefined): string {
  if (op === undefined) return 'A write'
  const table = `\`${shortName(op.table)}\``
  if (op.type !== 'record') return `${op.type} ${table}`
  if (op.before === undefined) return `An insert into ${table}`
  return op.after === undefined ? `A delete from ${table}` : `An update of ${table}`
}

export function settleDone(batch: Call[]): void {
  for (const call of batch) {
    if (call.done) continue
    call.done = true
    if (call.failed) call.reject(call.error)
    else call.resolve(call.result)
  }
}

export function settleFailed(batch: Call[], error: unknown): void {
  const reason = error instanceof DictDBError ? error : isConnectionLoss(error) ? new ConnectionError(`Lost the PostgreSQL server: ${shortName(String((error as Error).message), 300)}`, { cause: error }) : error
  for (const call of batch) if (!call.done) ((call.done = true), call.reject(reason))
}

/** node-postgres refused the query before sending it: its client was already closed or broken. */
export function neverSent(error: unknown): boolean {
  return error instanceof Error && /not queryable/.test(error.message)
}

export async function rollback(client: pg.Client): Promise<void> {
  await client.query('ROLLBACK').catch(() => {})
}
