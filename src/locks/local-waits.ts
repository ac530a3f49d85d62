import { processWide } from '../brand'
import type { Held, Holder } from './lock-context'

/**
 * An async acquisition of this thread waiting in a lock's queue: the lock, the holders its async
 * context holds (those it keeps from releasing while it waits), and, for a read holder waiting to
 * upgrade, that holder (it waits for the lock's other holders, not for itself).
 */
export interface LocalWait {
  readonly lock: object
  readonly held: readonly Held[]
  readonly upgrading: Holder | undefined
}

// One per process, like the lock context: the async holders of both builds (ESM and CommonJS
// loaded together) share one thread and can wait for each other.
const waits = processWide('local-waits', () => new Set<LocalWait>())

/** What `store` (an async context) holds, its own holders and its parents'. */
export function heldIn(store: Held | undefined): Held[] {
  const out: Held[] = []
  for (let held = store; held !== undefined; held = held.parent) if (held.holder.refs > 0) out.push(held)
  return out
}

/** The tags of `held`'s locks that have one (a shared lock's slot). */
export function tagsOf(held: readonly Held[]): number[] {
  const out: number[] = []
  for (const h of held) if (h.lock.tag >= 0) out.push(h.lock.tag)
  return out
}

/**
 * Whether `wait`, about to join its lock's queue, closes a wait-for cycle among this thread's
 * async holders. A waiter waits for every holder of its lock (those ahead of it in the queue wait
 * for them too); a holder is blocked only while a waiting context holds it, so one waiting for
 * nothing (a timer, I/O) ends every chain through it. Synchronous grants never count: they end
 * before the thread yields. Nothing is registered here (see {@link startWait}).
 */
export function closesCycle(wait: LocalWait): boolean {
  const seen = new Set<LocalWait>()
  const frontier: { lock: object; except: Holder | undefined }[] = [{ lock: wait.lock, except: wait.upgrading }]
  for (let next = frontier.pop(); next !== undefined; next = frontier.pop()) {
    const { lock, except } = next
    if (wait.held.some((h) => h.lock === lock && h.holder !== except)) return true
    for (const other of waits) {
      if (seen.has(other) || !other.held.some((h) => h.lock === lock && h.holder !== except && h.holder.refs > 0)) continue
      seen.add(other)
      frontier.push({ lock: other.lock, except: other.upgrading })
    }
  }
  return false
}

/** Registers `wait` while it is queued: other waits of this thread may then meet it in a cycle. */
export function startWait(wait: LocalWait): void {
  waits.add(wait)
}

/** `wait` left its queue (granted, timed out or refused). */
export function endWait(wait: LocalWait): void {
  waits.delete(wait)
}
