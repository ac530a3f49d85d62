import { describe, expect, it } from 'vitest'
import { SRC, runModule } from './support/child'

// A library of the application may put enumerable properties on Object.prototype; an options
// object (or no options at all) then inherits them. Only the options the caller wrote count.
/** A child script's lines that make `dir`, a fresh temporary folder (and import `join`). */
const TEMP_DIR = `const { join } = await import('node:path')
      const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'dictdb-inherited-'))`

function withPrototype(props: Record<string, unknown>, body: string): string {
  return runModule(`
    const { Database } = await import(${JSON.stringify(SRC)})
    Object.assign(Object.prototype, ${JSON.stringify(props)})
    let out
    try { out = await (async () => { ${body} })() } finally { for (const k of ${JSON.stringify(Object.keys(props))}) delete Object.prototype[k] }
    console.log(JSON.stringify(out))`)
}

describe('options and an enumerable property on Object.prototype (set by some library of the application)', () => {
  it('select reads only the options it was given', () => {
    const out = withPrototype({ limit: 1, where: { id: 1 }, orderBy: '-id', copy: false }, `
      const t = new Database().createTable('t')
      t.insert([{ id: 1 }, { id: 2 }])
      return [t.select().map((r) => r.id), t.select({}).map((r) => r.id), Object.isFrozen(t.select()[0])]`)
    expect(out).toBe('[[1,2],[1,2],false]')
  })

  it('createTable takes `id` as the primary key unless told otherwise', () => {
    const out = withPrototype({ primaryKey: 'name' }, `
      const db = new Database()
      return [db.createTable('a').primaryKey, db.createTable('b', {}).primaryKey]`)
    expect(out).toBe('["id","id"]')
  })

  it('a database is local unless asked to be shared', () => {
    const out = withPrototype({ shared: true }, `
      return [new Database(), new Database({})].map((db) => {
        let kind = 'shared'
        try { db.handle() } catch { kind = 'local' }
        db.close()
        return kind
      })`)
    expect(out).toBe('["local","local"]')
  })

  it('upsert updates by default', () => {
    const out = withPrototype({ onConflict: 'ignore' }, `
      const t = new Database().createTable('t')
      t.insert({ id: 1, a: 1 })
      return [t.upsert({ id: 1, a: 2 }).action, t.upsert({ id: 1, a: 3 }, {}).action, t.get(1).a]`)
    expect(out).toBe('["updated","updated",3]')
  })

  it('createIndex makes a plain hash index unless told otherwise', () => {
    const out = withPrototype({ unique: true, type: 'sorted' }, `
      const t = new Database().createTable('t')
      t.insert([{ id: 1, a: 1 }, { id: 2, a: 1 }])
      t.createIndex('a')
      t.createIndex('b', {})
      return t.count({ a: 1 })`)
    expect(out).toBe('2')
  })

  it('a schema field is required unless declared optional', () => {
    const out = withPrototype({ optional: true }, `
      const t = new Database().createTable('t', { schema: { name: { type: 'string' } } })
      try { t.insert({ id: 1 }) } catch (error) { return [error.code, t.count()] }
      return 'stored'`)
    expect(out).toBe('["SchemaValidationError",0]')
  })

  it('a schema of type strings is not taken for a Standard Schema validator', () => {
    const out = withPrototype({ '~standard': { version: 1, vendor: 'none' } }, `
      const t = new Database().createTable('t', { schema: { name: 'string' } })
      t.insert({ id: 1, name: 'a' })
      try { t.insert({ id: 2, name: 2 }) } catch (error) { return [error.code, t.count()] }
      return 'stored'`)
    expect(out).toBe('["SchemaValidationError",1]')
  })

  it('an aggregation that names no function is refused', () => {
    const out = withPrototype({ fn: 'count' }, `
      const t = new Database().createTable('t')
      t.insert({ id: 1 })
      try { return t.aggregate({ n: {} }) } catch (error) { return error.code }`)
    expect(out).toBe('"InvalidArgumentError"')
  })

  it('update with an empty where changes every record', () => {
    const out = withPrototype({ id: 2 }, `
      const t = new Database().createTable('t')
      t.insert([{ id: 1, a: 1 }, { id: 2, a: 2 }])
      return [t.update({ a: 9 }, {}), t.all().map((r) => r.a)]`)
    expect(out).toBe('[2,[9,9]]')
  })

  it('a new sequence counts with the default format', () => {
    const out = withPrototype({ format: 'X{0}', reset: 'never' }, `
      return new Database().sequence('s').next()`)
    expect(out).toBe('"1"')
  })

  it('createTable makes a table without ttl or schema unless asked', () => {
    const out = withPrototype({ ttl: { field: 'a' }, schema: { a: 'string' } }, `
      return [false, true].map((shared) => {
        const db = new Database({ shared })
        const t = db.createTable('t')
        t.insert([{ id: 1, a: 1 }, { id: 2, a: 2 }])
        const ids = t.all().map((r) => r.id)
        db.close()
        return ids
      })`)
    expect(out).toBe('[[1,2],[1,2]]')
  })

  it('save writes every record of a table without ttl', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      ${TEMP_DIR}
      const file = join(dir, 'db.json')
      const db = new Database()
      db.createTable('t').insert([{ id: 1, a: 1 }, { id: 2, a: 2 }])
      Object.prototype.ttl = { field: 'a' }
      try { db.save(file) } finally { delete Object.prototype.ttl }
      console.log(JSON.stringify(Database.load(file).getTable('t').all()))`)
    expect(out).toBe('[{"a":1,"id":1},{"a":2,"id":2}]')
  })

  it('a loaded table has the definition its file holds, in both formats', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      ${TEMP_DIR}
      const db = new Database()
      db.createTable('t').insert([{ id: 1, a: 1 }, { id: 2, a: 2 }])
      for (const format of ['json', 'binary']) db.save(join(dir, 'db.' + format), { format })
      Object.assign(Object.prototype, { ttl: { field: 'a' }, schema: { a: 'string' }, standardSchema: 'zod' })
      const found = []
      try {
        for (const format of ['json', 'binary']) {
          const t = Database.load(join(dir, 'db.' + format)).getTable('t')
          t.insert({ id: 3, a: 3 })
          found.push(t.all().map((r) => r.id))
        }
      } finally { for (const k of ['ttl', 'schema', 'standardSchema']) delete Object.prototype[k] }
      console.log(JSON.stringify(found))`)
    expect(out).toBe('[[1,2,3],[1,2,3]]')
  })

  it('a backup restore detects the format of its files', () => {
    const out = runModule(`
      const { Database, BackupManager } = await import(${JSON.stringify(SRC)})
      ${TEMP_DIR}
      const db = new Database()
      db.createTable('t').insert({ id: 1 })
      const backups = new BackupManager(db, dir)
      await backups.backupFull()
      await backups.stop()
      Object.prototype.format = 'binary'
      let records
      try { records = BackupManager.restore(dir).getTable('t').all() } finally { delete Object.prototype.format }
      console.log(JSON.stringify(records))`)
    expect(out).toBe('[{"id":1}]')
  })
})
