import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { CHILD_LIMIT_MS } from '../support/limits'

const SRC = new URL('../../src/index.ts', import.meta.url).href

/** Runs an ES module script in a fresh node, so the property it puts on Object.prototype reaches no other test. */
function child(script: string): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return result.stdout.trim()
}

describe('tables and an enumerable property on Object.prototype (set by some library of the application)', () => {
  it('an insert into a table with a schema is checked against the record\'s own fields only', () => {
    const out = child(`
      const { Database } = await import(${JSON.stringify(SRC)})
      Object.prototype.extra = 1
      const t = new Database().createTable('t', { schema: { name: 'string' } })
      t.insert({ id: 1, name: 'a' })
      delete Object.prototype.extra
      console.log(JSON.stringify(t.all()))`)
    expect(out).toBe('[{"id":1,"name":"a"}]')
  })

  it('columns() lists the records\' own fields only', () => {
    const out = child(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = new Database().createTable('t')
      t.insert({ id: 1, name: 'a' })
      Object.prototype.extra = 1
      const columns = t.columns()
      delete Object.prototype.extra
      console.log(JSON.stringify(columns))`)
    expect(out).toBe('["id","name"]')
  })
})
