// Deadlock detection across worker_threads tracks holders (async contexts), not threads: a lock
// held by a task that waits for nothing is no link in a cycle, however many other tasks of its
// thread wait. True cycles, sync or async, are still detected at once.
import { afterEach, describe, expect, it } from 'vitest'
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
})
