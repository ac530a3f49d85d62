// Async holders of one thread that wait for each other's locks: the cycle is found when it
// closes, and the wait that closes it gets DeadlockError (as across threads), instead of every
// member waiting for its lock timeout. A holder that waits for nothing is no link in a cycle.
// (Two readers upgrading at once: tests/locks/rwlock-suite.ts, for both lock kinds.)
import { describe, expect, it } from 'vitest'
import { Database, DeadlockError } from '../../src/index'
import { deferred, settle } from './rwlock-suite'

// Long enough that a test passing by a timeout instead of detection would be seen to fail: every
// deadlock below must be reported as a DeadlockError, never as a LockTimeoutError.
const TIMEOUT = 3000

for (const shared of [false, true]) {
  describe(`deadlocks between async holders of one thread (${shared ? 'shared' : 'local'} database)`, () => {
    function setup() {
      const db = new Database({ lockTimeoutMs: TIMEOUT, shared })
      return { db, a: db.createTable('a'), b: db.createTable('b'), c: db.createTable('c') }
    }

    it('two holders waiting for each other: the wait that closes the cycle gets DeadlockError, and the other goes on', async () => {
      const { db, a, b } = setup()
      const bothHold = deferred()
      const first = a.lock.write(async () => {
        await bothHold.promise
        return b.lock.write(() => 'first got b')
      })
      const second = b.lock.write(async () => {
        await bothHold.promise
        await settle() // the first waits for b before this one asks for a
        return a.lock.write(() => 'second got a')
      })
      bothHold.resolve()
      const [one, two] = await Promise.allSettled([first, second])
      expect(one).toEqual({ status: 'fulfilled', value: 'first got b' })
      expect(two).toMatchObject({ status: 'rejected', reason: { name: 'DeadlockError', code: 'DeadlockError', table: 'a' } })
      expect((two as PromiseRejectedResult).reason).toBeInstanceOf(DeadlockError)
      db.close()
    })

    it('a cycle of three holders is found when the third closes it', async () => {
      const { db, a, b, c } = setup()
      const allHold = deferred()
      const wait = (held: typeof a, wanted: typeof a, rounds: number) =>
        held.lock.write(async () => {
          await allHold.promise
          await settle(rounds)
          return wanted.lock.write(() => 'ok')
        })
      const tasks = [wait(a, b, 0), wait(b, c, 5), wait(c, a, 10)]
      allHold.resolve()
      const outcomes = await Promise.allSettled(tasks)
      expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value : o.reason.name))).toEqual(['ok', 'ok', 'DeadlockError'])
      db.close()
    })

    it('a holder waiting for a timer is no link in a cycle: holders waiting behind it in a chain all go on when it ends', async () => {
      const { db, a, b, c } = setup()
      const idle = deferred()
      const holdsA = a.lock.write(() => idle.promise.then(() => 'a released'))
      await settle()
      // b's holder waits for a (held by a task waiting for nothing); c's holder waits for b.
      const holdsB = b.lock.write(() => a.lock.write(() => 'b then a'))
      await settle()
      const holdsC = c.lock.write(() => b.lock.write(() => 'c then b'))
      await settle()
      // Another task of the same thread also waits for c: still no cycle (nobody waits for it).
      const waitsC = c.lock.read(() => 'c read')
      await settle(20)
      idle.resolve()
      expect(await Promise.all([holdsA, holdsB, holdsC, waitsC])).toEqual(['a released', 'b then a', 'c then b', 'c read'])
      db.close()
    })

    it('a task that holds a lock in a parent context and waits in a child is one holder: no cycle with itself', async () => {
      const { db, a, b } = setup()
      const result = await a.lock.write(async () => {
        await settle()
        const inner = await b.lock.write(async () => {
          await settle()
          return a.lock.write(() => b.lock.read(() => 'nested'))
        })
        return inner
      })
      expect(result).toBe('nested')
      db.close()
    })

    it('after the loser backs off, no lock is left held: a transaction on every table runs at once', async () => {
      const { db, a, b } = setup()
      const bothHold = deferred()
      const first = a.lock.write(async () => {
        await bothHold.promise
        return b.lock.write(() => a.insert({ id: 1 }))
      })
      const second = b.lock.write(async () => {
        await bothHold.promise
        await settle()
        return a.lock.write(() => b.insert({ id: 1 }))
      })
      bothHold.resolve()
      await Promise.allSettled([first, second])
      expect(a.lock.locked || b.lock.locked).toBe(false)
      expect(db.transaction(() => [a.count(), b.count()], { tables: ['a', 'b'] })).toEqual([1, 0])
      db.close()
    })
  })
}
