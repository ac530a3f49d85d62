// What the fault campaign's round program and its workers share: a seeded random generator and
// the chain check of a commit listener.

/** A small seeded generator (mulberry32), so that a round replays from its seed. */
export { prng as rng } from '../../../bench/harness.mjs'

/**
 * A model of the tables built only from the commits a listener hears, starting from the state
 * when it subscribed: each record op's `before` must be the model's current record. A commit
 * heard twice, missed or out of order breaks the chain and is recorded as a problem.
 */
export class ChainCheck {
  problems = []
  #model = new Map()

  /** Call it right before subscribing: the model is one consistent state (a transaction's reads). */
  constructor(db, names) {
    // Under contention the reads may time out or lose a deadlock: try again, a bounded number of times.
    for (let attempt = 0; ; attempt++) {
      try {
        return void db.transaction(() => {
          for (const name of names) this.#model.set(name, new Map(db.getTable(name).all().map((rec) => [rec.id, rec])))
        }, { retries: 10 })
      } catch (error) {
        if (attempt >= 10 || (error.name !== 'LockTimeoutError' && error.name !== 'DeadlockError')) throw error
      }
    }
  }

  hear(commit) {
    if (commit.reset) return this.problems.push('a reset commit: the replica was rebuilt, the chain cannot be checked')
    for (const op of commit.ops) {
      if (op.type !== 'record') continue
      const table = this.#model.get(op.table)
      if (table === undefined) continue
      const known = table.get(op.key)
      if (JSON.stringify(known) !== JSON.stringify(op.before)) {
        if (this.problems.length < 5) this.problems.push(`${op.table}/${String(op.key)}: heard before ${JSON.stringify(op.before)}, model has ${JSON.stringify(known)}`)
      }
      if (op.after === undefined) table.delete(op.key)
      else table.set(op.key, op.after)
    }
  }

  /** The model's records of `name`, sorted by key. */
  records(name) {
    return [...this.#model.get(name).values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }
}
