import { AsyncLocalStorage } from 'node:async_hooks'
import { processWide } from '../brand'

/** What the async-context bookkeeping needs of a lock. */
interface Tagged {
  /** What {@link heldTags} reports for this lock (a shared lock's slot), or -1. */
  readonly tag: number
}

/** One async acquisition; it holds the lock while `refs > 0` (its callback, plus re-entrant calls). */
export interface Holder {
  readonly write: boolean
  refs: number
  /** Write grants made to this read holder (upgrades); the lock is write-held while > 0. */
  upgrades: number
}

/** The locks an async context holds: a persistent list, so nested contexts compose. */
export interface Held {
  readonly lock: Tagged
  readonly holder: Holder
  readonly parent: Held | undefined
}

// One per process: a lock of the ESM build taken inside a holder of the CommonJS build's (both
// loaded, dictdb required by a dependency) must see that holder, as within one build.
export const context = processWide('lock-context', () => new AsyncLocalStorage<Held>())

/** The holder of `lock` in the async context `store` (or its parents), if it still holds. */
export function holderIn(store: Held | undefined, lock: Tagged): Holder | undefined {
  for (let held = store; held !== undefined; held = held.parent) {
    if (held.lock === lock) return held.holder.refs > 0 ? held.holder : undefined
  }
  return undefined
}

/** The tags of the locks the current async context holds (its own and its parents'). */
export function heldTags(): number[] {
  const out: number[] = []
  for (let held = context.getStore(); held !== undefined; held = held.parent) {
    if (held.holder.refs > 0 && held.lock.tag >= 0) out.push(held.lock.tag)
  }
  return out
}
