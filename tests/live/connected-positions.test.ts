// Commit positions in a connected database (PostgreSQL): one per commit, the same in every
// process (commits grouped into one PostgreSQL transaction included), and `changes({ from })`.
import { describe, expect, it } from 'vitest'
import { ChangeFeedOverflowError, InvalidArgumentError, type Commit } from '../../src/index'
import type { ConnectedDatabase } from '../../src/postgres/index'
import { connectedClosedAfterEach, freshName } from '../postgres/support'
import { waitUntil } from '../workers/support'

/** The positions of the commits `db` hears of from now on. */
function positionsHeard(db: ConnectedDatabase): number[] {
  const positions: number[] = []
  db.onCommit((commit) => positions.push(commit.position as number))
  return positions
}

/** Inserts `ids` into `jobs`, one `transactionAsync` each, all at once (so group commit joins them). */
function insertAtOnce(db: ConnectedDatabase, ids: number[]): Promise<unknown> {
  const jobs = db.getTable('jobs')
  return Promise.all(ids.map((id) => db.transactionAsync(() => jobs.insert({ id }))))
}

async function twoProcesses(open: ReturnType<typeof connectedClosedAfterEach>): Promise<[ConnectedDatabase, ConnectedDatabase]> {
  const name = freshName()
  const here = await open({ name })
  const there = await open({ name })
  await here.transactionAsync(() => here.createTable('jobs'))
  await there.sync()
  return [here, there]
}

describe('commit positions in a connected database', () => {
  const open = connectedClosedAfterEach()

  it('gives each commit its own increasing position, the same in the process that made it and in another', async () => {
    const [here, there] = await twoProcesses(open)
    const heardHere = positionsHeard(here)
    const heardThere = positionsHeard(there)
    await insertAtOnce(there, Array.from({ length: 40 }, (_, i) => i))
    await waitUntil(() => heardHere.length === 40, 10_000, 'the commits to reach the other process')
    expect(heardHere).toEqual(heardThere)
    for (let i = 1; i < heardHere.length; i++) expect(heardHere[i]).toBeGreaterThan(heardHere[i - 1] as number)
  })

  it('numbers the commits grouped into one PostgreSQL transaction one by one, the last at the state\'s position', async () => {
    const [here, there] = await twoProcesses(open)
    const heard = positionsHeard(there)
    await insertAtOnce(there, Array.from({ length: 40 }, (_, i) => i))
    // Calls made while one commit is in flight go together: some consecutive positions.
    expect(heard.some((p, i) => i > 0 && p === (heard[i - 1] as number) + 1)).toBe(true)
    await waitUntil(() => here.getTable('jobs').count() === 40, 10_000, 'the other process')
    const reset = await nextOf(here.changes({ from: heard[0] as number, onOverflow: 'reset' }))
    expect(reset.position).toBe(heard[39])
  })

  it('resumes a feed after a kept position with the commits made after it', async () => {
    const [here, there] = await twoProcesses(open)
    const heard = positionsHeard(here)
    await insertAtOnce(here, [1])
    const feed = here.changes({ from: heard[0] as number })
    await insertAtOnce(there, [2])
    await insertAtOnce(there, [3])
    const next = [await nextOf(feed), await nextOf(feed)]
    expect(next.map((c) => (c.ops[0] as { key: unknown }).key)).toEqual([2, 3])
    expect(next[0]?.position).toBeGreaterThan(heard[0] as number)
  })

  it('accepts a position another process reached before this one heard of it, and goes on after it', async () => {
    const [here, there] = await twoProcesses(open)
    const heard = positionsHeard(there)
    await insertAtOnce(there, [1])
    // Most often this process has not had the notification of that commit yet.
    const feed = here.changes({ from: heard[0] as number })
    await insertAtOnce(there, [2])
    const commit = await nextOf(feed)
    expect((commit.ops[0] as { key: unknown }).key).toBe(2)
    expect(commit.position).toBe(heard[1])
  })

  it('refuses a position this process has passed: ChangeFeedOverflowError, or a reset carrying where its state is', async () => {
    const [here] = await twoProcesses(open)
    const heard = positionsHeard(here)
    await insertAtOnce(here, [1])
    await insertAtOnce(here, [2])
    expect(() => here.changes({ from: heard[0] as number })).toThrow(ChangeFeedOverflowError)
    const reset = await nextOf(here.changes({ from: heard[0] as number, onOverflow: 'reset' }))
    expect(reset).toEqual({ ops: [], reset: true, position: heard[1] })
  })

  it('ends a feed from a position past the end of the log with InvalidArgumentError', async () => {
    const [here] = await twoProcesses(open)
    const heard = positionsHeard(here)
    await insertAtOnce(here, [1])
    const feed = here.changes({ from: (heard[0] as number) * 1000 })
    await expect(feed.next()).rejects.toThrow(InvalidArgumentError)
  })

  it("gives an overflowed feed's reset the position of the last commit its state holds", async () => {
    const [here] = await twoProcesses(open)
    const feed = here.changes({ onOverflow: 'reset', maxBuffered: 1 })
    const heard = positionsHeard(here)
    await insertAtOnce(here, [1, 2, 3])
    const reset = await nextOf(feed)
    expect(heard[2]).toBeGreaterThan(0)
    expect(reset).toEqual({ ops: [], reset: true, position: heard[2] })
  })
})

async function nextOf(feed: AsyncIterator<Commit>): Promise<Commit> {
  const result = await feed.next()
  if (result.done === true) throw new Error('the feed ended')
  return result.value
}
