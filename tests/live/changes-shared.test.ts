// The change feed of a shared database whose thread fell so far behind the shared log that its
// replica was rebuilt from the snapshot: the commits in between are gone, and the feed says so.
// Two handles in one thread behave as two threads: the second only catches up when it is used.
import { afterEach, describe, expect, it } from 'vitest'
import { ChangeFeedOverflowError, Database, type ChangesOptions, type Commit } from '../../src/index'

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

function overtaken(options: ChangesOptions) {
  const writer = new Database({ shared: true, logBytes: 65536 })
  const table = writer.createTable('t')
  const reader = Database.attach(writer.handle())
  open.push(reader, writer)
  const feed = reader.changes(options)
  table.insert({ id: 'first' })
  reader.listTables() // the feed gets that commit
  for (let i = 0; i < 2000; i++) table.insert({ id: i, pad: 'x'.repeat(40) })
  reader.listTables() // too far behind: the reader's replica is rebuilt from the snapshot
  return { writer, table, reader, feed }
}

describe('db.changes when the replica is rebuilt from a snapshot', () => {
  it('by default, the consumer gets the commits before the gap, then ChangeFeedOverflowError: never a silent gap', async () => {
    const { feed } = overtaken({})
    const got: Commit[] = []
    const reading = (async () => {
      for await (const commit of feed) got.push(commit)
    })()
    await expect(reading).rejects.toBeInstanceOf(ChangeFeedOverflowError)
    expect(got.map((c) => c.ops.map((op) => op.type === 'record' && op.key))).toEqual([['first']])
  })

  it("with onOverflow: 'reset', the consumer gets a reset carrying the position its state is at, then the commits after it", async () => {
    const { writer, table, reader, feed } = overtaken({ onOverflow: 'reset' })
    expect((await feed.next()).value?.ops).toHaveLength(1)
    const reset = (await feed.next()).value as Commit
    expect(reset).toMatchObject({ ops: [], reset: true })
    expect(reader.getTable('t').count()).toBe(2001)
    table.insert({ id: 'after' })
    const next = (await feed.next()).value as Commit
    expect(next.ops.map((op) => op.type === 'record' && op.key)).toEqual(['after'])
    expect(next.position).toBeGreaterThan(reset.position as number)
    expect(writer.getTable('t').count()).toBe(2002)
  })
})
