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

  it('a condition on a field a record lacks reads it as missing there, with or without an index', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const db = new Database()
      const plain = db.createTable('plain')
      const indexed = db.createTable('indexed', { indexes: [{ field: 'extra' }] })
      for (const t of [plain, indexed]) t.insert([{ id: 1 }, { id: 2, extra: 5 }])
      Object.prototype.extra = 1
      const found = [plain, indexed].map((t) => [t.select({ where: t.field('extra').isNull() }), t.count({ extra: 1 }), t.select({ columns: ['extra'] })])
      delete Object.prototype.extra
      console.log(JSON.stringify(found))`)
    const rows = [[{ id: 1 }], 0, [{ extra: null }, { extra: 5 }]]
    expect(out).toBe(JSON.stringify([rows, rows]))
  })

  it('a record without the ttl field does not expire', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = new Database().createTable('t', { ttl: { field: 'expires' } })
      t.insert({ id: 1 })
      Object.prototype.expires = 1
      const found = t.get(1)
      delete Object.prototype.expires
      console.log(JSON.stringify(found))`)
    expect(out).toBe('{"id":1}')
  })

  it('an array with a hole is refused, whatever Array.prototype holds at that index', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = new Database().createTable('t')
      Array.prototype[0] = 'inherited'
      let result
      try { t.insert({ id: 1, list: [, 1] }); result = 'stored' } catch (error) { result = error.code } finally { delete Array.prototype[0] }
      console.log(JSON.stringify([result, t.count()]))`)
    expect(out).toBe('["InvalidArgumentError",0]')
  })

  // The write path's index reads are compiled after thousands of writes: a library that pollutes
  // the prototype later must still not make an index see the inherited value.
  it('a unique index made and used before the prototype gains its field still lets records without the field in', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = new Database().createTable('t', { indexes: [{ field: 'tag', unique: true }] })
      t.insert([{ id: 1, tag: 'a' }, { id: 2, tag: 'b' }])
      for (let i = 0; i < 20000; i++) t.update({ tag: 'a' + i }, { id: 1 })
      Object.prototype.tag = 'x'
      const result = []
      try { t.insert({ id: 3 }); t.insert({ id: 4 }); t.update({ name: 'n' }, { id: 3 }); result.push('stored') } catch (error) { result.push(error.code) }
      delete Object.prototype.tag
      result.push(t.count(), t.count({ tag: 'x' }))
      console.log(JSON.stringify(result))`)
    expect(out).toBe('["stored",4,0]')
  })

  it('hash and sorted indexes made and used before the prototype gains their field keep records without it as missing', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const db = new Database()
      const tables = ['hash', 'sorted'].map((type) => db.createTable(type, { indexes: [{ field: 'tag', type }] }))
      for (const t of tables) {
        t.insert([{ id: 1, tag: 'a' }, { id: 2 }])
        for (let i = 0; i < 20000; i++) t.update({ tag: 'a' + i }, { id: 1 })
      }
      Object.prototype.tag = 'x'
      for (const t of tables) { t.insert({ id: 3 }); t.update({ name: 'n' }, { id: 2 }); t.delete({ id: 3 }); t.insert({ id: 3 }) }
      delete Object.prototype.tag
      const found = tables.map((t) => [t.count({ tag: 'x' }), t.select({ where: t.field('tag').isNull(), columns: ['id'] })])
      console.log(JSON.stringify(found))`)
    const each = [0, [{ id: 2 }, { id: 3 }]]
    expect(out).toBe(JSON.stringify([each, each]))
  })

  it('a record read while the prototype holds a field of the table\'s other records comes back without it', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = new Database().createTable('t')
      t.insert([{ id: 1, tag: 'a' }, { id: 2 }])
      t.get(1)
      Object.prototype.tag = 'x'
      const found = [t.get(2), t.select({ where: { id: 2 } })[0]].map((r) => Object.keys(r))
      delete Object.prototype.tag
      console.log(JSON.stringify(found))`)
    expect(out).toBe('[["id"],["id"]]')
  })
})
