import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { pgUrl } from './server'

describe('the test server', () => {
  it('a PostgreSQL server answers at the URL the test setup provides', async () => {
    const client = new pg.Client(pgUrl())
    await client.connect()
    try {
      const { rows } = await client.query<{ one: number }>('SELECT 1 AS one')
      expect(rows[0]?.one).toBe(1)
    } finally {
      await client.end()
    }
  })
})
