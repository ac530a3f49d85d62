import { describe, expect, it } from 'vitest'
import { SRC, runModule } from '../support/child'

describe('tables and an enumerable property on Object.prototype (set by some library of the application)', () => {
  it('an insert into a table with a schema is checked against the record\'s own fields only', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      Object.prototype.extra = 1
      const t = new Database().createTable('t', { schema: { name: 'string' } })
      t.insert({ id: 1, name: 'a' })
      delete Object.prototype.extra
      console.log(JSON.stringify(t.all()))`)
    expect(out).toBe('[{"id":1,"name":"a"}]')
  })

  it('columns() lists the records\' own fields only', () => {
    const out = runModule(`
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
