import { LockTimeoutError } from '../errors'
import { CANNOT_UPGRADE, cannotWait, checkTimeout, deadlocked, expected } from './lock-checks'
import { context, holderIn, type Held, type Holder } from './lock-context'
import { LockQueue, type Waiter } from './local-queue'
import { closesCycle, heldIn, tagsOf } from './local-waits'
import { LocalCounters, type LockCounters } from './stats'
import { checkOptions } from '../options'
import type { AcquireOptions, LockMode, Release, RWLock } from './types'

/** Publishes an in-thread wait, holding the locks `tags`, where other threads see it (shared locks). */
export type InThreadWaits = (tags: number[]) => { cycle: boolean; withdraw(): void }

class Upgrade {
  constructor(readonly holder: Holder) {}
}

const SYNC_READ = 0
const SYNC_WRITE = 1
/** What a synchronous grant took, so that it can be given back without allocating a closure. */
type SyncGrant = typeof SYNC_READ | typeof SYNC_WRITE | Holder | Upgrade

/**
 * A table's reader-writer lock for one thread: many readers or one writer, writer-preferring
 * and FIFO among waiters. Async holders are tracked with `AsyncLocalStorage`, so calls made
 * inside a holder's callback are re-entrant (and a sole reader may upgrade to write).
 *
 * A synchronous call never waits for an async holder of this thread — that holder could only
 * finish if this thread ran — so it throws `LockTimeoutError` at once instead. Synchronous
 * grants nest, on the understanding that they are released before the thread yields. An async
 * wait that would close a cycle of this thread's holders waiting for each other backs off at
 * once with `DeadlockError` (./local-waits.ts).
 *
 * @example
 * ```ts
 * const lock = new LocalRWLock({ name: 'users', timeoutMs: 5000 })
 * await lock.write(async () => {
 *   lock.readSync(() => count())   // re-entrant: this context holds the write lock
 *   await save()
 * })
 * lock.writeSync(() => insert())    // free: granted at once
 * ```
 */
export class LocalRWLock implements RWLock {
  /** What {@link heldTags} reports for this lock (a shared lock's slot), or -1. */
  readonly tag: number
  readonly counters: LockCounters
  readonly #name: string
  readonly #timeoutMs: number
  /** Outstanding grants: async holders plus synchronous grants. Zero means free and no waiter. */
  #holds = 0
  #readers = 0
  /** An async holder writes (a write holder or an upgraded reader). */
  #writer = false
  #syncReads = 0
  #syncWrites = 0
  readonly #queue: LockQueue
  readonly #publish: InThreadWaits | undefined

  constructor(options: { name: string; timeoutMs: number; tag?: number; counters?: LockCounters; inThreadWaits?: InThreadWaits }) {
    if (typeof options !== 'object' || options === null) throw expected('options', 'an object', options)
    if (typeof options.name !== 'string') throw expected('name', 'a string', options.name)
    this.tag = options.tag ?? -1
    this.counters = options.counters ?? new LocalCounters()
    this.#name = options.name
    this.#timeoutMs = checkTimeout(options.timeoutMs)
    this.#publish = options.inThreadWaits
    this.#queue = new LockQueue(this.#name, this.counters, () => this.#admit())
  }

  get locked(): boolean {
    return this.#holds !== 0
  }

  read<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    return this.#enter(false, fn, options)
  }

  write<R>(fn: () => R | Promise<R>, options?: AcquireOptions): Promise<Awaited<R>> {
    return this.#enter(true, fn, options)
  }

  readSync<R>(fn: () => R, options?: AcquireOptions): R {
    return this.#runSync(false, fn, options)
  }

  writeSync<R>(fn: () => R, options?: AcquireOptions): R {
    return this.#runSync(true, fn, options)
  }

  acquireSync(mode: LockMode, options?: AcquireOptions): Release {
    if (mode !== 'read' && mode !== 'write') throw expected('mode', "'read' or 'write'", mode)
    if (options !== undefined) this.timeoutOf(options)
    const grant = this.#takeSync(mode === 'write')
    let released = false
    return () => {
      if (released) return
      released = true
      this.#giveBack(grant)
    }
  }

  enterSync(mode: LockMode): unknown {
    return this.#takeSync(mode === 'write')
  }

  exitSync(grant: unknown): void {
    this.#giveBack(grant as SyncGrant)
  }

  #runSync<R>(write: boolean, fn: () => R, options: AcquireOptions | undefined): R {
    if (typeof fn !== 'function') throw expected('fn', 'a function', fn)
    if (options !== undefined) this.timeoutOf(options)
    const grant = this.#takeSync(write)
    try {
      return fn()
    } finally {
      this.#giveBack(grant)
    }
  }

  async #enter<R>(write: boolean, fn: () => R | Promise<R>, options: AcquireOptions | undefined): Promise<Awaited<R>> {
    if (typeof fn !== 'function') throw expected('fn', 'a function', fn)
    const timeoutMs = this.timeoutOf(options)
    const store = context.getStore()
    if (this.#holds === 0) this.#count(write)
    else {
      const holder = holderIn(store, this)
      if (holder !== undefined) return this.#reenter(holder, write, fn, timeoutMs, store)
      if (this.#mayEnter(write)) this.#count(write)
      else await this.#wait(write, undefined, timeoutMs, store)
    }
    const holder: Holder = { write, refs: 1, upgrades: 0 }
    try {
      return await context.run({ lock: this, holder, parent: store }, fn)
    } finally {
      this.#unref(holder)
    }
  }

  async #reenter<R>(holder: Holder, write: boolean, fn: () => R | Promise<R>, timeoutMs: number, store: Held | undefined): Promise<Awaited<R>> {
    holder.refs++
    let upgraded = false
    try {
      if (write && !holder.write) {
        if (holder.upgrades !== 0 || this.#soleReader()) this.#beginUpgrade(holder)
        else await this.#wait(true, holder, timeoutMs, store)
        upgraded = true
      }
      return await fn()
    } finally {
      if (upgraded) this.#endUpgrade(holder)
      this.#unref(holder)
    }
  }

  #takeSync(write: boolean): SyncGrant {
    // Every grant is synchronous (or there is none). Synchronous grants end before this thread
    // yields (acquireSync serves synchronous transactions), so they are this call stack's: nest.
    if (this.#holds === this.#syncReads + this.#syncWrites) {
      this.#holds++
      if (write) this.#syncWrites++
      else this.#syncReads++
      return write ? SYNC_WRITE : SYNC_READ
    }
    const holder = holderIn(context.getStore(), this)
    if (holder !== undefined) return this.#reenterSync(holder, write)
    // Queued writers cannot run before this synchronous reader returns, so it may share.
    if (write || this.#writer) throw this.#refuse(cannotWait(this.#writer, this.#readers, write))
    this.#holds++
    this.#syncReads++
    return SYNC_READ
  }

  #reenterSync(holder: Holder, write: boolean): SyncGrant {
    if (!write || holder.write) {
      holder.refs++
      return holder
    }
    if (holder.upgrades === 0 && !this.#soleReader()) throw this.#refuse(CANNOT_UPGRADE)
    holder.refs++
    this.#beginUpgrade(holder)
    return new Upgrade(holder)
  }

  #giveBack(grant: SyncGrant): void {
    if (grant === SYNC_READ || grant === SYNC_WRITE) {
      if (grant === SYNC_READ) this.#syncReads--
      else this.#syncWrites--
      this.#holds--
      this.#admit()
    } else if (grant instanceof Upgrade) {
      this.#endUpgrade(grant.holder)
      this.#unref(grant.holder)
    } else this.#unref(grant)
  }

  #mayEnter(write: boolean): boolean {
    if (write) return this.#holds === 0
    return !this.#writer && this.#syncWrites === 0 && this.#queue.empty
  }

  #soleReader(): boolean {
    return this.#readers === 1 && this.#syncReads === 0
  }

  #count(write: boolean): void {
    this.#holds++
    if (write) this.#writer = true
    else this.#readers++
  }

  #unref(holder: Holder): void {
    if (--holder.refs !== 0) return
    this.#holds--
    if (holder.write) this.#writer = false
    else this.#readers--
    this.#admit()
  }

  #beginUpgrade(holder: Holder): void {
    holder.upgrades++
    this.#writer = true
  }

  #endUpgrade(holder: Holder): void {
    if (--holder.upgrades !== 0) return
    this.#writer = false
    this.#admit()
  }

  /**
   * Queues an async acquisition, unless it would close a wait-for cycle among this thread's async
   * holders: then it backs off at once with `DeadlockError`, as a waiter across threads does.
   */
  #wait(write: boolean, holder: Holder | undefined, timeoutMs: number, store: Held | undefined): Promise<void> {
    const held = heldIn(store)
    const inThread = closesCycle({ lock: this, held, upgrading: holder })
    // A cycle through other threads shows only in shared memory, where the wait then stays.
    const published = inThread ? undefined : this.#publish?.(tagsOf(held))
    if (inThread || published?.cycle === true) {
      published?.withdraw()
      return Promise.reject(deadlocked(this.#name))
    }
    const withdraw = published?.withdraw
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { lock: this, held, upgrading: holder, write, resolve, reject, since: performance.now(), timer: undefined, withdraw }
      this.#queue.add(waiter, timeoutMs)
    })
  }

  /** Lets the waiters go that may, in order: upgrades first, then the FIFO up to its first blocked waiter. */
  #admit(): void {
    const upgrade = this.#queue.upgrade
    if (upgrade !== undefined) {
      if (!this.#soleReader() || this.#writer) return
      this.#beginUpgrade(upgrade.upgrading as Holder)
      return this.#queue.grant(upgrade)
    }
    let waiter = this.#queue.first
    if (waiter === undefined) return // the common case: nobody waits
    for (; waiter !== undefined; waiter = this.#queue.first) {
      if (waiter.write ? this.#holds !== 0 : this.#writer || this.#syncWrites !== 0) break
      this.#count(waiter.write)
      this.#queue.grant(waiter)
      if (waiter.write) break
    }
    this.#queue.compact()
  }

  /** The timeout of one acquisition: `options.timeoutMs`, checked, or the lock's. @internal */
  timeoutOf(options: AcquireOptions | undefined): number {
    if (options === undefined) return this.#timeoutMs
    const { timeoutMs } = checkOptions(options, ['timeoutMs'], 'the lock')
    return timeoutMs === undefined ? this.#timeoutMs : checkTimeout(timeoutMs)
  }

  #refuse(why: string): LockTimeoutError {
    this.counters.timedOut()
    return new LockTimeoutError(`table \`${this.#name}\` ${why}`, { table: this.#name })
  }
}
