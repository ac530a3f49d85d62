import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { Database, DuplicateKeyError, SchemaValidationError } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'
import { FORMATS, richDatabase, tempDir } from './support'

const MODES = [
  { name: 'save/load', save: async (db: Database, f: string, o?: object) => db.save(f, o), load: async (f: string, o?: object) => Database.load(f, o) },
  { name: 'saveAsync/loadAsync', save: (db: Database, f: string, o?: object) => db.saveAsync(f, o), load: (f: string, o?: object) => Database.loadAsync(f, o) },
] as const

describe.each(FORMATS)('the %s format', (format) => {
  describe.each(MODES)('with $name', ({ save, load }) => {
    it('round-trips tables, records, indexes and schemas', async () => {
      const db = richDatabase()
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      const back = await load(file)
      expect(snapshot(back)).toEqual(snapshot(db))
      expect(back.listTables()).toEqual(['users', 'cities', 'empty', '_counters'])
    })

    it('keeps the values exactly: Date, bigint, nested objects, tag-like keys, unicode', async () => {
      const db = richDatabase()
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      const back = (await load(file)).getTable('users')
      const ada = back.get(1) as Record<string, unknown>
      expect(ada.born).toBeInstanceOf(Date)
      expect((ada.born as Date).toISOString()).toBe('1815-12-10T00:00:00.000Z')
      expect(ada.balance).toBe(2n ** 80n)
      expect(back.get(2)?.meta).toEqual({ $date: 'not a tag', n: -0.5 })
      expect(back.get(3)?.meta).toEqual({ $object: { $bigint: '1' } })
      expect(back.get(4)?.name).toBe('Édith ✓ 😀')
      expect(back.get(4)?.meta).toEqual({ 'line\nbreak': 'tab\there "quoted" \\ back', empty: '' })
      expect((await load(file)).getTable('cities').get('LON')?.big).toBe(-123456789012345678901234567890n)
    })

    it('keeps -0 apart from 0, at the top of a record and nested', async () => {
      const db = new Database()
      // A flat record (the compiled path of canonical-shape.ts) and a nested one (the general walk).
      db.createTable('t').insert([{ id: 1, z: -0, list: [-0, 0], deep: { z: -0 } }, { id: 2, z: 0 }, { id: 3, z: -0 }])
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      const [negative, positive, flat] = (await load(file)).getTable('t').all() as Array<Record<string, any>>
      expect(Object.is(flat?.z, -0)).toBe(true)
      expect(Object.is(negative?.z, -0)).toBe(true)
      expect(Object.is(negative?.list[0], -0) && Object.is(negative?.list[1], 0)).toBe(true)
      expect(Object.is(negative?.deep.z, -0)).toBe(true)
      expect(Object.is(positive?.z, 0)).toBe(true)
    })

    it('keeps the key counter past deleted records', async () => {
      const db = richDatabase()
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      expect((await load(file)).getTable('users').insert({ name: 'Next', age: 2 })).toBe(6)
    })

    it('keeps record order, and gives fields back in canonical (sorted) order', async () => {
      const db = new Database()
      const t = db.createTable('t')
      t.insert({ id: 'b', z: 1, a: 2 })
      t.insert({ id: 'a', m: 1 })
      t.update({ z: 3 }, { id: 'b' })
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      const rows = (await load(file)).getTable('t').all()
      expect(rows.map((r) => r.id)).toEqual(['b', 'a'])
      expect(Object.keys(rows[0] as object)).toEqual(['a', 'id', 'z'])
    })

    it('enforces the loaded schema and unique index', async () => {
      const file = join(tempDir(), `db.${format}`)
      await save(richDatabase(), file, { format })
      const users = (await load(file)).getTable('users')
      expectDictDBError(() => users.insert({ name: 'X', age: 'old' }), 'SchemaValidationError', /age/)
      expectDictDBError(() => users.insert({ name: 'Ada', age: 3 }), 'DuplicateKeyError')
    })

    it('saves an empty database', async () => {
      const file = join(tempDir(), `db.${format}`)
      await save(new Database(), file, { format })
      expect((await load(file)).listTables()).toEqual([])
    })

    it('round-trips sequences and counters (system tables)', async () => {
      const db = new Database()
      const seq = db.sequence('invoice', { format: 'INV-{0000}' })
      seq.next()
      seq.next()
      db.counter('hits').add(5)
      const file = join(tempDir(), `db.${format}`)
      await save(db, file, { format })
      const back = await load(file)
      expect(back.sequence('invoice', { format: 'INV-{0000}' }).next()).toBe('INV-0003')
      expect(back.counter('hits').value).toBe(5)
    })
  })

  it('detects the format when none is given, and refuses a wrong one', () => {
    const file = join(tempDir(), 'db.any')
    richDatabase().save(file, { format })
    expect(Database.load(file).listTables()).toHaveLength(4)
    const other = format === 'json' ? 'binary' : 'json'
    expectDictDBError(() => Database.load(file, { format: other }), 'CorruptFileError', new RegExp(`is a ${format} dictdb file, not ${other}`))
  })

  it('writes the same bytes for the same database (stable order)', () => {
    const dir = tempDir()
    const db = richDatabase()
    db.save(join(dir, 'a'), { format })
    Database.load(join(dir, 'a')).save(join(dir, 'b'), { format })
    expect(readFileSync(join(dir, 'b')).equals(readFileSync(join(dir, 'a')))).toBe(true)
  })

  it('re-attaches a Standard Schema validator given on load, and warns when it is missing', () => {
    const db = new Database()
    const t = db.createTable('people', { schema: z.object({ id: z.number().optional(), name: z.string() }) })
    t.insert({ name: 'Ada' })
    const file = join(tempDir(), 'db')
    db.save(file, { format })
    const warn = vi.fn()
    const bare = Database.load(file, { logger: { warn, error: vi.fn() } })
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/people.*zod.*schemas/))
    bare.getTable('people').insert({ name: 42 })
    const checked = Database.load(file, { schemas: { people: z.object({ id: z.number().optional(), name: z.string() }) } })
    expect(() => checked.getTable('people').insert({ name: 42 })).toThrow(SchemaValidationError)
  })

  it('refuses `schemas` for a table the file does not have', () => {
    const file = join(tempDir(), 'db')
    richDatabase().save(file, { format })
    expectDictDBError(() => Database.load(file, { schemas: { usres: { name: 'string' } } }), 'InvalidArgumentError', /usres.*users/)
  })
})

describe('the JSON format', () => {
  it('is readable: an envelope with the format and version, one record per line, a checksum', () => {
    const db = new Database()
    db.createTable('t').insert([{ when: new Date(0), n: 1n }, { x: 'y' }])
    const file = join(tempDir(), 'db.json')
    db.save(file)
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines[0]).toMatch(/^\{"format":"dictdb","version":1,"kind":"database","tables":\[\{"count":2,.*"name":"t".*"sections":\[$/)
    expect(lines.slice(1, 6)).toEqual(['{"section":"t","items":[', '{"id":1,"n":{"$bigint":"1"},"when":{"$date":"1970-01-01T00:00:00.000Z"}},', '{"id":2,"x":"y"}', ']}', expect.stringMatching(/^\],"checksum":"crc32:[0-9a-f]{8}"\}$/)])
  })

  it('loads a file edited by hand once its checksum is removed, even reformatted', () => {
    const dir = tempDir()
    const db = new Database()
    db.createTable('t').insert({ name: 'Ada' })
    db.save(join(dir, 'db.json'))
    const edited = readFileSync(join(dir, 'db.json'), 'utf8').replace('"Ada"', '"Ada L."')
    writeFileSync(join(dir, 'edited.json'), edited)
    expectDictDBError(() => Database.load(join(dir, 'edited.json')), 'CorruptFileError', /checksum.*remove the "checksum" field/)
    const noSum = edited.replace(/,"checksum":"crc32:[0-9a-f]+"/, '')
    writeFileSync(join(dir, 'edited.json'), noSum)
    expect(Database.load(join(dir, 'edited.json')).getTable('t').get(1)?.name).toBe('Ada L.')
    const pretty = JSON.stringify(JSON.parse(noSum), null, 2)
    writeFileSync(join(dir, 'pretty.json'), pretty)
    expect(Database.load(join(dir, 'pretty.json')).getTable('t').get(1)?.name).toBe('Ada L.')
  })
})

describe('save and load arguments', () => {
  it('refuses unknown options and formats', () => {
    const db = new Database()
    expectDictDBError(() => db.save(join(tempDir(), 'x'), { fromat: 'json' } as never), 'InvalidArgumentError', /fromat.*format/)
    expectDictDBError(() => db.save(join(tempDir(), 'x'), { format: 'xml' } as never), 'InvalidArgumentError', /'json' or 'binary'/)
    expectDictDBError(() => Database.load('', {}), 'InvalidArgumentError', /path/)
  })

  it('gives the new database its options', () => {
    const file = join(tempDir(), 'db')
    richDatabase().save(file)
    const logger = { warn: vi.fn(), error: vi.fn() }
    const db = Database.load(file, { lockTimeoutMs: 10, logger })
    db.onCommit(() => {
      throw new Error('listener')
    })
    db.getTable('empty').insert({})
    expect(logger.error).toHaveBeenCalled()
  })

  it('loads content that breaks the rules as a CorruptFileError naming the table', () => {
    const dir = tempDir()
    const db = new Database()
    db.createTable('t').insert([{ id: 1 }, { id: 2 }])
    db.save(join(dir, 'db.json'))
    const text = readFileSync(join(dir, 'db.json'), 'utf8').replace('{"id":2}', '{"id":1}').replace(/,"checksum":"crc32:[0-9a-f]+"/, '')
    writeFileSync(join(dir, 'dup.json'), text)
    const error = expectDictDBError(() => Database.load(join(dir, 'dup.json')), 'CorruptFileError', /records of `t`.*Duplicate primary key/)
    expect(error.cause).toBeInstanceOf(DuplicateKeyError)
    expect(error.table).toBe('t')
  })

  it('refuses a file whose records break a unique index, sync and async alike', async () => {
    const dir = tempDir()
    const db = new Database()
    db.createTable('t', { indexes: [{ field: 'email', unique: true }] }).insert([{ email: 'a@x' }, { email: 'b@x' }])
    db.save(join(dir, 'db.json'))
    const text = readFileSync(join(dir, 'db.json'), 'utf8').replace('"b@x"', '"a@x"').replace(/,"checksum":"crc32:[0-9a-f]+"/, '')
    writeFileSync(join(dir, 'dup.json'), text)
    const error = expectDictDBError(() => Database.load(join(dir, 'dup.json')), 'CorruptFileError', /records of `t`.*unique index on `t.email`.*a@x/)
    await expect(Database.loadAsync(join(dir, 'dup.json'))).rejects.toThrow(error.message)
  })
})

