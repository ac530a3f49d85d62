import type { Rec } from '../values/types'
import { fieldOf } from '../values/own-field'
import { expiryTime, type TtlRule } from './ttl'

/** The least time between two expiry refreshes of one view: records expiring 1 ms apart are batched. */
const MIN_GAP_MS = 5

/**
 * A view's timer for the records in its result that will expire (a table with `ttl`): at the
 * soonest expiry it refreshes the view, so an expired record leaves the result at once, not
 * only when the sweep deletes it. Unref'd: it never keeps the process alive.
 */
export class ExpiryTimer {
  readonly #rule: TtlRule | null
  readonly #fire: () => void
  #at = Infinity
  #timer: NodeJS.Timeout | null = null
  #lastFire = -Infinity

  constructor(rule: TtlRule | null, fire: () => void) {
    this.#rule = rule
    this.#fire = fire
  }

  /** Whether records of this view can expire at all. */
  get active(): boolean {
    return this.#rule !== null
  }

  /** Notes records that are now in the result: the timer is armed for the soonest expiry. */
  note(recs: Iterable<Rec>): void {
    const rule = this.#rule
    if (rule === null) return
    let soonest = Infinity
    for (const rec of recs) soonest = Math.min(soonest, expiryTime(fieldOf(rec, rule.field)))
    if (soonest >= this.#at || soonest === Infinity) return
    this.#at = soonest
    if (this.#timer !== null) clearTimeout(this.#timer)
    const now = Date.now()
    const delay = Math.max(soonest - now, this.#lastFire + MIN_GAP_MS - now, 0)
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#at = Infinity
      this.#lastFire = Date.now()
      this.#fire()
    }, delay)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer)
    this.#timer = null
    this.#at = Infinity
  }
}
