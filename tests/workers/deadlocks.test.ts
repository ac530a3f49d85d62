// Deadlock detection across worker_threads tracks holders (async contexts), not threads: a lock
// held by a task that waits for nothing is no link in a cycle, however many other tasks of its
// thread wait. True cycles, sync or async, are still detected at once.
import { afterEach, describe, expect, it } from 'vitest'
import { settle } from '../locks/rwlock-suite'
import { Remote, Workers, waitUntil, writersWaiting } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

async function setup() {
  const db = workers.database({ lockTimeoutMs: 5000 })
  const a = db.createTable('a')
  const b = db.createTable('b')
  const worker = await Remote.start(workers, db)
  return { db, a, b, worker }
}

describe('deadlock detection across worker_threads', () => {
  it('a worker waiting for a lock whose holder waits for nothing is no deadlock, though another task of that thread waits for the worker', async () => {
    const { db, a, b, worker } = await setup()
    const idle = deferred()
    const holdingA = a.lock.write(() => idle.promise) // task 1: holds a, waits for a timer only
    const inWorker = worker.try((db) => db.getTable('b').lock.writeSync(() => db.getTable('a').lock.writeSync(() => 'both')))
    await waitUntil(() => writersWaiting(db) === 1, 5000, 'the worker to wait for a')
    const waitingForB = b.lock.write(() => 'b') // task 2: waits for b, which the worker holds
    await waitUntil(() => writersWaiting(db) === 2, 5000, 'task 2 to wait for b')
    // Longer than any detector's patience: nobody may call this a deadlock meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 700))
    idle.resolve()
    await holdingA
    expect(await inWorker).toMatchObject({ ok: true, value: 'both' })
    expect(await waitingForB).toBe('b')
  })

  it('an async holder waiting for a lock held by a worker that waits for it is a deadlock, and one side backs off', async () => {
    const { db, a, b, worker } = await setup()
    const workerWaits = deferred()
    const task = a.lock.write(async () => {
      await workerWaits.promise
      return b.lock.write(() => 'b')
    })
    const inWorker = worker.try((db) => db.getTable('b').lock.writeSync(() => db.getTable('a').lock.writeSync(() => 'a')))
    await waitUntil(() => writersWaiting(db) === 1, 5000, 'the worker to wait for a')
    workerWaits.resolve()
    const outcomes = await Promise.allSettled([task, inWorker])
    const workerReply = await inWorker
    // The worker (a synchronous waiter) is the one that backs off; the task then gets b.
    expect(workerReply).toMatchObject({ ok: false, error: { name: 'DeadlockError' } })
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'b' })
  })

  describe('a cycle through two async holders of one thread and a worker', () => {
    async function setup3() {
      const { db, a, b, worker } = await setup()
      const c = db.createTable('c')
      const go = { a: deferred(), c: deferred() }
      // Task A holds a, then wants b (held by the worker); task C holds c, then wants a (held by A).
      const taskA = a.lock.write(async () => {
        await go.a.promise
        return b.lock.write(() => 'A')
      })
      const taskC = c.lock.write(async () => {
        await go.c.promise
        return a.lock.write(() => 'C')
      })
      await settle()
      // The worker holds b, then waits for c (held by task C).
      const inWorker = worker.try((db) => db.getTable('b').lock.writeSync(() => db.getTable('c').lock.writeSync(() => 'W')))
      await waitUntil(() => writersWaiting(db) === 1, 5000, 'the worker to wait for c')
      return { db, go, taskA, taskC, inWorker }
    }

    it('closed by the in-thread wait: that wait gets DeadlockError at once, and the worker and the other task finish', async () => {
      const { db, go, taskA, taskC, inWorker } = await setup3()
      go.a.resolve()
      await waitUntil(() => writersWaiting(db) === 2, 5000, 'task A to wait for b')
      go.c.resolve() // task C now waits for a, in this thread: the cycle closes
      await expect(taskC).rejects.toMatchObject({ name: 'DeadlockError', table: 'a' })
      expect(await inWorker).toMatchObject({ ok: true, value: 'W' })
      expect(await taskA).toBe('A')
    })

    it('closed by a wait across threads: a waiter that polls (the task or the worker) backs off, never the in-thread one', async () => {
      const { go, taskA, taskC, inWorker } = await setup3()
      go.c.resolve() // task C waits for a in this thread: no cycle yet (task A waits for nothing)
      await settle()
      go.a.resolve() // task A now waits for b, held by the worker: the cycle closes
      const [one, three] = await Promise.allSettled([taskA, taskC])
      const worker = await inWorker
      expect(three).toEqual({ status: 'fulfilled', value: 'C' })
      const lost = [one.status === 'rejected' ? one.reason.name : 'A', worker.ok ? 'W' : worker.error.name]
      expect(lost.filter((name) => name === 'DeadlockError')).toHaveLength(1)
      expect(lost.filter((name) => name !== 'DeadlockError')).toEqual([expect.stringMatching(/^[AW]$/)])
    })
  })
})
