import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { joinItems, unframeEntries } from '../../src/postgres/early'
import { PreparedStatement } from '../../src/postgres/prepared'
import { pgUrl } from './server'

// The commit's call (src/postgres/prepared.ts): a named statement sent with messages made by
// dictdb through node-postgres's Submittable interface.
describe('PreparedStatement', () => {
  let client: pg.Client
  beforeEach(async () => {
    client = new pg.Client(pgUrl())
    await client.connect()
  })
  afterEach(async () => {
    await client.end().catch(() => {})
  })

  const echo = () => new PreparedStatement('dictdb_test_echo', 'SELECT $1::text AS t, $2::bytea AS b, NULL::int AS n', [false, true])
  const prepared = async (name: string) => (await client.query('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = $1', [name])).rows[0].n

  it('answers the row of each call, text parameters as text and bytes as bytes', async () => {
    const statement = echo()
    expect(await statement.run(client, ['héllo', Uint8Array.of(0, 255, 10)])).toEqual(['héllo', '\\x00ff0a', null])
    expect(await statement.run(client, ['again', Uint8Array.of()])).toEqual(['again', '\\x', null])
  })

  it('prepares the statement once per connection and reuses it', async () => {
    const statement = echo()
    for (let i = 0; i < 3; i++) await statement.run(client, [String(i), Uint8Array.of(i)])
    expect(await prepared('dictdb_test_echo')).toBe(1)
    const other = new pg.Client(pgUrl())
    await other.connect()
    try {
      expect(await statement.run(other, ['other', Uint8Array.of(1)])).toEqual(['other', '\\x01', null])
    } finally {
      await other.end()
    }
  })

  it('answers null for a statement that returns no row', async () => {
    const none = new PreparedStatement('dictdb_test_none', 'SELECT 1 WHERE $1::text IS NULL', [false])
    expect(await none.run(client, ['x'])).toBeNull()
  })

  it('rejects with the server error of a failing call, and the next call works', async () => {
    const divide = new PreparedStatement('dictdb_test_divide', 'SELECT (1 / $1::int)::text', [false])
    await expect(divide.run(client, ['0'])).rejects.toMatchObject({ code: '22012' })
    expect(await divide.run(client, ['1'])).toEqual(['1'])
    expect(await prepared('dictdb_test_divide')).toBe(1)
  })

  it('rejects without sending on a client whose connection is lost', async () => {
    const statement = echo()
    await statement.run(client, ['x', Uint8Array.of()])
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    client.on('error', () => {})
    const ended = new Promise((resolve) => client.once('end', resolve))
    const admin = new pg.Client(pgUrl())
    await admin.connect()
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    await admin.end()
    await ended
    await expect(statement.run(client, ['x', Uint8Array.of()])).rejects.toThrow(/not queryable/)
  })

  it('runs calls queued on one client one after another, each with its own answer', async () => {
    const statement = echo()
    const answers = await Promise.all([1, 2, 3].map((i) => statement.run(client, [String(i), Uint8Array.of(i)])))
    expect(answers.map((row) => row?.[0])).toEqual(['1', '2', '3'])
  })
})

describe('the early procedure answer', () => {
  it('unframes entries with positions past 2^32', () => {
    const frame = (position: number, bytes: number[]) => {
      const head = Buffer.alloc(12)
      head.writeUInt32BE(Math.floor(position / 2 ** 32), 0)
      head.writeUInt32BE(position % 2 ** 32, 4)
      head.writeUInt32BE(bytes.length, 8)
      return Buffer.concat([head, Buffer.from(bytes)])
    }
    const answer = `\\x${Buffer.concat([frame(2 ** 32 + 5, [1, 2]), frame(2 ** 32 + 6, [])]).toString('hex')}`
    expect(unframeEntries(answer).map((e) => ({ position: e.position, ops: [...e.ops] }))).toEqual([
      { position: 2 ** 32 + 5, ops: [1, 2] },
      { position: 2 ** 32 + 6, ops: [] },
    ])
  })

  it('has no entries when the answer is null', () => {
    expect(unframeEntries(null)).toEqual([])
  })

  it('joins items with a character JSON text never holds raw', () => {
    const items = [JSON.stringify(['k', 't', 'line\nbreak']), JSON.stringify(['c'])]
    expect(joinItems(items).split('\n')).toEqual(items)
  })
})
