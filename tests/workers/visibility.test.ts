// What a read sees of other threads' commits. A shared `get` checks for new commits with a plain
// (non-atomic) read of the commit count, and with `Atomics.load` only every 64th time or when the
// count moved (src/shared/replica.ts `current()`): a read that happens after a commit (told by a
// message) must still see it, and a polling loop must still see progress.
import { afterEach, describe, expect, it } from 'vitest'
import { Workers, sharedInts } from './support'

const workers = new Workers()
afterEach(() => workers.terminate())

function pingPongTable(db: ReturnType<Workers['database']>) {
  const t = db.createTable<{ id: number; v: number }>('pp')
  t.insert([
    { id: 1, v: 0 },
    { id: 2, v: 0 },
  ])
  return t
}

describe('a shared get after another thread committed', () => {
  it('sees a commit it was told about by a message, in both directions, round after round', async () => {
    const db = workers.database()
    const t = pingPongTable(db)
    const worker = workers.spawn('ping-pong', { db: db.handle() })
    await worker.next('attached')
    const rounds = 1000
    const missed: { v: number; seen: number | undefined }[] = []
    let v = 0
    for (let round = 0; round < rounds; round++) {
      t.update({ v: v + 1 }, { id: 1 })
      worker.post({ v: v + 1, last: round === rounds - 1 })
      v = await worker.next<number>('pong')
      // The first read after the message: it must see the worker's commit.
      const seen = t.get(1)?.v
      if (seen !== v) missed.push({ v, seen })
      for (let k = 0; k < 100; k++) t.get(2)
    }
    expect(missed).toEqual([])
    expect(await worker.result).toEqual([])
    expect(v).toBe(2 * rounds)
  })

  it('sees it in a synchronous polling loop, with nothing else between the polls', async () => {
    const db = workers.database()
    const t = pingPongTable(db)
    const flags = sharedInts(1)
    const rounds = 200
    const poller = workers.spawn('poll', { db: db.handle(), flags, rounds, maxMs: 10_000 })
    await workers.start([poller])
    for (let round = 1; round <= rounds; round++) {
      t.update({ v: round }, { id: 1 })
      // Bounded: the poller gives up after its own 10 s, and this wait after 20 s.
      if (Atomics.wait(flags, 0, round - 1, 20_000) === 'timed-out' && Atomics.load(flags, 0) !== round) break
    }
    const { seen } = await poller.result
    expect(seen).toBe(rounds)
  })
})
