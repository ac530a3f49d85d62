// The change feed of a shared database whose thread fell so far behind the shared log that its
// replica was rebuilt from the snapshot: the commits in between are gone, and the feed says so.
// Two handles in one thread behave as two threads: the second only catches up when it is used.
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { ChangeFeedOverflowError, Database, type ChangesOptions, type Commit, type Table } from '../../src/index'

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

describe('db.changes({ from }) in a shared database, against a model', () => {
  it('a resumed feed gets exactly the commits after its position, in order, or ChangeFeedOverflowError when this thread has passed it', async () => {
    // Steps: the writer commits; the reader catches up (reads) or not; at the end the reader
    // resumes from the position of a commit picked at random.
    const stepArb = fc.oneof(fc.constant<'write'>('write'), fc.constant<'read'>('read'))
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.nat(), async (steps, pick) => {
        const writer = new Database({ shared: true, logBytes: 1 << 20 })
        const table = writer.createTable('t')
        const reader = Database.attach(writer.handle())
        try {
          await resumeAgainstModel(writer, table, reader, steps, pick)
        } finally {
          reader.close()
          writer.close()
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 60) },
    )
  })
})

/** Runs the steps, then resumes the reader's feed from the position of the `pick`-th commit. */
async function resumeAgainstModel(writer: Database, table: Table, reader: Database, steps: ('write' | 'read')[], pick: number) {
  const log: { position: number; key: number }[] = []
  writer.onCommit((c) => {
    const op = c.ops[0]
    if (op?.type === 'record') log.push({ position: c.position as number, key: op.key as number })
  })
  let readerAt = -1 // the index in log of the last commit the reader applied
  steps.forEach((step, i) => {
    if (step === 'write') table.insert({ id: i })
    else {
      reader.listTables()
      readerAt = log.length - 1
    }
  })
  if (log.length === 0) return
  const from = pick % log.length
  const position = (log[from] as { position: number }).position
  if (from < readerAt) {
    expect(() => reader.changes({ from: position })).toThrow(ChangeFeedOverflowError)
    return
  }
  const feed = reader.changes({ from: position })
  const got: number[] = []
  for (let n = log.length - 1 - from; n > 0; n--) {
    const commit = (await feed.next()).value as Commit
    got.push(commit.ops[0]?.type === 'record' ? (commit.ops[0].key as number) : -1)
  }
  expect(got).toEqual(log.slice(from + 1).map((c) => c.key))
  expect(feed.buffered).toBe(0)
  await feed.return()
}
