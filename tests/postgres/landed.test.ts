import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { COMMITS_PER_ENTRY } from '../../src/postgres/replica'
import { connectedClosedAfterEach, freshName } from './support'
import { Proxy } from './proxy'
import { pgUrl } from './server'

// A validated commit that lands after other processes' commits applies them first, from the
// entries its answer brings back. On the v3 path the answer is read after the append, so a
// prune can come between: the replica is then rebuilt from that snapshot and its own commit
// comes back from the log. The early path's procedure reads the answer with the check, in one
// statement, before the append: the prune cannot come between, and every entry is applied.
const paths = [
  { path: 'v3', entries: (at: (entry: number) => number) => ['reset', at(5), at(6), at(7)] },
  { path: 'early', entries: (at: (entry: number) => number) => [at(2), at(3), at(4), at(5), at(6), at(7)] },
] as const

describe.each(paths)('a validated commit that lands after a prune ($path path)', ({ path, entries }) => {
  const connected = connectedClosedAfterEach()
  const open: typeof connected = (options) => {
    process.env.DICTDB_PG_COMMIT = path
    return connected(options).finally(() => delete process.env.DICTDB_PG_COMMIT)
  }

  it('takes the log up to its own commit and applies each later commit once, in order', async () => {
    const name = freshName()
    const a = await open({ name, snapshotEvery: 4 })
    await a.transactionAsync(() => a.createTable('t').insert([{ id: 'mine', n: 0 }, { id: 'theirs', n: 0 }]))
    const proxy = new Proxy(pgUrl())
    await proxy.start()
    const admin = new pg.Client(pgUrl())
    await admin.connect()
    const trigger = `prune_${name.replaceAll('-', '_')}`
    try {
      const b = await open({ name, url: proxy.url(pgUrl()), snapshotEvery: 0 })
      await b.sync()
      const seen: (number | 'reset')[] = []
      b.onCommit((commit) => void seen.push(commit.reset === true ? 'reset' : (commit.position as number)))
      // b hears nothing more until released: its replica stays at position 1.
      proxy.hold()
      for (let i = 0; i < 4; i++) await a.transactionAsync(() => a.getTable('t').update({ n: i + 1 }, { id: 'theirs' }))
      await a.sync() // the snapshot at 4 is saved
      // Entries up to 4 disappear inside b's commit (at 6), as if a prune committed between its check and its answer.
      await admin.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.name = ${admin.escapeLiteral(name)} AND NEW.position = 6 THEN DELETE FROM dictdb_log WHERE name = NEW.name AND position <= 4; END IF;
        RETURN NEW; END $$`)
      await admin.query(`CREATE TRIGGER ${trigger} AFTER INSERT ON dictdb_log FOR EACH ROW EXECUTE FUNCTION ${trigger}()`)
      const mine = b.transactionAsync(() => b.getTable('t').update({ n: 1 }, { id: 'mine' }))
      const head = async () => Number((await admin.query('SELECT position FROM dictdb_head WHERE name = $1', [name])).rows[0].position)
      while ((await head()) < 6) await new Promise((resolve) => setTimeout(resolve, 10))
      await a.sync()
      await a.transactionAsync(() => a.getTable('t').update({ n: 5 }, { id: 'theirs' })) // position 7
      proxy.release()
      await mine
      await b.sync()
      expect(b.getTable('t').all()).toEqual(a.getTable('t').all())
      // v3: rebuilt from the snapshot at 4, b's listeners hear the reset, 5, its own 6, then 7;
      // early: 2 to 5 from its answer, its own 6, then 7. Each once.
      expect(seen).toEqual(entries((entry) => entry * COMMITS_PER_ENTRY))
    } finally {
      proxy.release()
      await admin.query(`DROP TRIGGER IF EXISTS ${trigger} ON dictdb_log`).catch(() => {})
      await admin.query(`DROP FUNCTION IF EXISTS ${trigger}()`).catch(() => {})
      await admin.end()
      await proxy.cut()
    }
  })
})
