import { onePatchWriterOf } from '../shared/codec'
import type { Replica } from '../shared/replica'
import type { SharedRWLock } from '../locks/shared-lock'
import { Increment } from '../operators'
import { fieldMaker, type FieldMaker } from '../storage/patcher'
import type { TableStore } from '../storage/table-store'
import type { ChangePlanner } from '../table-changes'
import type { TableContext } from './parts'
import type { Transactions } from '../txn/transactions'
import type { PatchWriter } from '../values/binary-shapes'
import type { Shape } from '../values/shape'
import type { Key } from '../values/types'
import { sameKey } from '../shared/defer'
import { EXPRESS_BEHIND, EXPRESS_DONE, EXPRESS_NOT } from '../shared/replica'

/** Tries of an express update that finds too many entries appended since it caught up (then: the general path). */
const EXPRESS_TRIES = 3

/** Off only in tests, which compare the log and replicas this path makes with the general path's. */
let enabled = true

/** @internal Turns the express path of every shared table on or off (tests). */
export function setExpressUpdates(on: boolean): void {
  enabled = on
}

/**
 * A shared database's express update: `update({ field: value }, { id })` of one field, outside
 * every transaction and call in progress, with nobody listening in this thread, done in one
 * straight line: the record merged by a compiled maker, its patch encoded straight into the ring
 * under the append mutex, the commit published, the record stored. None of the general path's
 * change objects, checked-write bookkeeping, or lock grant.
 *
 * It makes exactly the entry and state the general path makes of the same update (the patch
 * writer compiled for that table and field: `CheckedChange.encodeInto`), and runs only when the
 * general path would do nothing else: no validator (no user code), no unique index (its checks
 * span records), no `ttl` (expiry reads the clock), every record of one flat shape having the
 * field, a value that is not an object, nothing in this thread holding the table's lock, and,
 * under the append mutex, no other thread holding the lock and nothing appended since the
 * replica caught up but patches of other records (see `Replica.appendField`). It catches up
 * first, as the general path does before it plans a write. Anything else answers false with
 * nothing changed, and the caller takes the general path, which sees to it (errors included).
 */
export class ExpressUpdate {
  /** The table's context: whether it is still alive once caught up. */
  readonly #ctx: TableContext
  readonly #table: string
  readonly #store: TableStore
  readonly #lock: SharedRWLock
  readonly #tx: Transactions
  readonly #plan: ChangePlanner
  readonly #replica: Replica
  /** The field, shape and compiled code of the last express update (a table's updates mostly set one field). */
  #field = ''
  #shape: Shape | null = null
  #make: FieldMaker | null = null
  #write: PatchWriter | null = null
  /** The record the update in progress changes (see {@link touches}). */
  #key: Key = 0

  constructor(ctx: TableContext, plan: ChangePlanner) {
    this.#ctx = ctx
    this.#table = ctx.name
    this.#store = ctx.store
    this.#lock = ctx.lock as SharedRWLock
    this.#tx = ctx.tx
    this.#plan = plan
    this.#replica = ctx.replica as Replica
  }

  /**
   * Updates record `key`, setting `field` to `given` (a checked value or operator, as
   * `ChangePlanner.changes` leaves it), if the express path can; false, with nothing changed, if not.
   */
  update(field: string, given: unknown, key: Key): boolean {
    if (!enabled || !this.#tx.idle || this.#lock.heldHere) return false
    // A writer that found too long a run of other writers' entries under the append mutex
    // (`BESIDE_MAX`) catches up outside it and tries again, a few times, before the general path.
    for (let tries = 1; ; tries++) {
      const done = this.#try(field, given, key)
      if (done !== EXPRESS_BEHIND || tries === EXPRESS_TRIES) return done === EXPRESS_DONE
    }
  }

  /** One try of {@link update}: `Replica.appendField`'s answer, or EXPRESS_NOT if the express path cannot run. */
  #try(field: string, given: unknown, key: Key): number {
    // What the general path does before it plans (`OptimisticWrites.attempt`): catch up (nobody
    // listens here, so no user code runs), rebuilding if need be. Then the checks, on the table
    // as the log left it (another thread may have added a unique index or a validator).
    const replica = this.#replica
    replica.refresh()
    // The catch-up may have applied another thread's dropTable: no write of it may reach the log.
    if (this.#ctx.dead !== null) return EXPRESS_NOT
    const store = this.#store
    if (this.#plan.validator !== null || store.hasUnique || store.ttl !== null) return EXPRESS_NOT
    const before = store.get(key)
    const shape = store.flatShape
    if (before === undefined || shape === null) return EXPRESS_NOT
    if (field !== this.#field || shape !== this.#shape) this.#compile(field, shape)
    const make = this.#make
    const write = this.#write
    if (make === null || write === null) return EXPRESS_NOT
    // An increment of a value it cannot add to throws: the general path throws it.
    const value = given instanceof Increment ? given.applyTo(before[field], field, this.#table) : given
    if (typeof value === 'object' && value !== null) return EXPRESS_NOT
    this.#key = key
    return replica.appendField(this, this.#lock, write, store, key, before, make(before, value), field)
  }

  /** Whether the update in progress changes record `key` of `table` (the entries it may be appended beside: `patchesBeside`). */
  touches(table: string, key: Key): boolean {
    return table === this.#table && sameKey(key, this.#key)
  }

  #compile(field: string, shape: Shape): void {
    this.#field = field
    this.#shape = shape
    this.#make = fieldMaker(shape, field)
    this.#write = onePatchWriterOf(this.#table, field)
  }
}
