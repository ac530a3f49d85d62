import { describe, expect, it } from 'vitest'
import { connectedClosedAfterEach, freshName } from './support'

describe('expiry on a connected database', () => {
  const open = connectedClosedAfterEach()

  it('the background sweep deletes expired records through transactionAsync without errors', async () => {
    const errors: unknown[] = []
    const name = freshName()
    const db = await open({ name, logger: { warn: () => {}, error: (_message, error) => errors.push(error) } })
    await db.transactionAsync(() => db.createTable('sessions', { ttl: { ms: 10 } }).insert({ id: 1 }))
    const other = await open({ name })
    // The deletion is a commit like any other: another process's replica receives it.
    await new Promise<void>((resolve) => other.onCommit(({ ops }) => ops.some((op) => op.type === 'record' && op.table === 'sessions') && resolve()))
    expect(errors).toEqual([])
  })
})
