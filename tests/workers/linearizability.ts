/**
 * A small linearizability checker (Wing & Gong's search, with Knossos-style memoization) for
 * histories of one integer register per key: reads, writes and increments, each with the time it
 * was invoked and the time it returned, on a clock common to all threads.
 *
 * Linearizability is local (Herlihy & Wing): a history is linearizable iff each key's sub-history
 * is, so keys are checked one by one. Within a key, each thread's operations are sequential, so
 * the operations already placed always form a prefix of each thread's list: the search state is
 * (how far each thread got, the register's value), memoized, and an operation may be placed next
 * only if no other thread's next operation returned before it was invoked (real-time order).
 */

export interface Operation {
  /** The thread (or client) that ran it; its operations never overlap each other. */
  process: number
  key: string
  kind: 'read' | 'write' | 'increment'
  /** read: the value it returned; write: the value written; increment: the amount added. */
  value: number
  /** When it was invoked and when it returned, on a clock common to every process. */
  start: number
  end: number
}

export interface Verdict {
  ok: boolean
  /** The first key whose history is not linearizable. */
  key?: string
  /** That key's operations, for the failure message. */
  history?: Operation[]
}

/** Checks every key's sub-history; `initial` is each register's value before the history. */
export function checkLinearizable(history: readonly Operation[], initial: (key: string) => number = () => 0): Verdict {
  const byKey = new Map<string, Operation[]>()
  for (const op of history) {
    if (!(op.start < op.end)) throw new Error(`operation invoked at ${op.start} returned at ${op.end}`)
    byKey.set(op.key, [...(byKey.get(op.key) ?? []), op])
  }
  for (const [key, ops] of byKey) {
    if (!linearizable(ops, initial(key))) return { ok: false, key, history: ops }
  }
  return { ok: true }
}

/** Whether one register's history has a legal sequential order consistent with real time. */
function linearizable(ops: readonly Operation[], initial: number): boolean {
  const processes = [...new Set(ops.map((op) => op.process))]
  const lanes = processes.map((p) => ops.filter((op) => op.process === p).sort((a, b) => a.start - b.start))
  for (const lane of lanes) {
    for (let i = 1; i < lane.length; i++) {
      if ((lane[i] as Operation).start < (lane[i - 1] as Operation).end) throw new Error(`process ${lane[i]?.process} ran two operations at once`)
    }
  }
  const next = lanes.map(() => 0)
  const failed = new Set<string>()
  const search = (value: number, placed: number): boolean => {
    if (placed === ops.length) return true
    const state = `${next.join(',')}|${value}`
    if (failed.has(state)) return false
    // The earliest return among the operations not yet placed: nothing invoked after it can go first.
    let horizon = Infinity
    lanes.forEach((lane, p) => {
      const head = lane[next[p] as number]
      if (head !== undefined) horizon = Math.min(horizon, head.end)
    })
    for (let p = 0; p < lanes.length; p++) {
      const op = (lanes[p] as Operation[])[next[p] as number]
      if (op === undefined || op.start > horizon) continue
      const after = step(op, value)
      if (after === null) continue
      next[p] = (next[p] as number) + 1
      const found = search(after, placed + 1)
      next[p] = (next[p] as number) - 1
      if (found) return true
    }
    failed.add(state)
    return false
  }
  return search(initial, 0)
}

/** The register's value after `op`, or null if `op` could not have happened at `value`. */
function step(op: Operation, value: number): number | null {
  if (op.kind === 'read') return op.value === value ? value : null
  if (op.kind === 'write') return op.value
  return value + op.value
}
