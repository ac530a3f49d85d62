import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { Database, DuplicateKeyError, SchemaValidationError } from '../../src/index'
import { expectDictDBError, snapshot, thrown } from '../support/helpers'
import { tempDir, withLimits } from './support'

function csvFile(content: string | Buffer): string {
  const file = join(tempDir(), 'data.csv')
  writeFileSync(file, content)
  return file
}

describe('importCsv', () => {
  it('creates a table from a header row, inferring numbers, booleans and JSON', () => {
    const db = new Database()
    const file = csvFile('id,name,age,member,zip,tags,note\n1,Ada,36,true,01234,"[""a"",""b""]",\n2,Alan,41.5,FALSE,75001,,""\n')
    expect(db.importCsv(file, 'people')).toBe(2)
    expect(db.getTable('people').all()).toEqual([
      { id: 1, name: 'Ada', age: 36, member: true, zip: '01234', tags: ['a', 'b'] },
      { id: 2, name: 'Alan', age: 41.5, member: false, zip: 75001, note: '' },
    ])
  })

  it('keeps every value a string with inferTypes: false', () => {
    const db = new Database()
    db.importCsv(csvFile('id,n\nk1,42\n'), 't', { inferTypes: false })
    expect(db.getTable('t').get('k1')).toEqual({ id: 'k1', n: '42' })
  })

  it('casts by a type-string schema, and the table keeps the schema', () => {
    const db = new Database()
    const file = csvFile('name;age;born;big;active\nAda;36;1815-12-10;123456789012345678901234567890;1\n')
    db.importCsv(file, 'people', { delimiter: ';', schema: { name: 'string', age: 'integer', born: 'date', big: 'bigint', active: 'boolean' } })
    const ada = db.getTable('people').get(1) as Record<string, unknown>
    expect(ada).toEqual({ id: 1, name: 'Ada', age: 36, born: new Date('1815-12-10'), big: 123456789012345678901234567890n, active: true })
    expect(db.getTable('people').schemaFields()).toEqual(['name', 'age', 'born', 'big', 'active'])
  })

  it('handles RFC 4180 quoting: delimiters, quotes and line breaks in fields, CRLF', () => {
    const db = new Database()
    const file = csvFile('id,text\r\n1,"a, b"\r\n2,"say ""hi"""\r\n3,"two\r\nlines"\r\n')
    db.importCsv(file, 't', { inferTypes: false })
    expect(db.getTable('t').all().map((r) => r.text)).toEqual(['a, b', 'say "hi"', 'two\r\nlines'])
  })

  it('reads UTF-8 with or without a byte order mark', () => {
    for (const bom of ['', '\uFEFF']) {
      const db = new Database()
      db.importCsv(csvFile(`${bom}name,city\nÉdith,Zürich 😀\n`), 't')
      expect(db.getTable('t').columns()).toEqual(['id', 'name', 'city'])
      expect(db.getTable('t').get(1)).toEqual({ id: 1, name: 'Édith', city: 'Zürich 😀' })
    }
  })

  it('names the columns from `columns` or the schema when there is no header row', () => {
    const db = new Database()
    db.importCsv(csvFile('Ada,36\n'), 'a', { header: false, columns: ['name', 'age'] })
    db.importCsv(csvFile('Ada,36\n'), 'b', { header: false, schema: { name: 'string', age: 'integer' } })
    expect(db.getTable('a').get(1)).toEqual({ id: 1, name: 'Ada', age: 36 })
    expect(db.getTable('b').get(1)).toEqual({ id: 1, name: 'Ada', age: 36 })
    expectDictDBError(() => db.importCsv(csvFile('x\n'), 'c', { header: false }), 'InvalidArgumentError', /columns/)
  })

  it('uses the given primary key', () => {
    const db = new Database()
    db.importCsv(csvFile('sku,price\nA1,3\nB2,4\n'), 'products', { primaryKey: 'sku' })
    expect(db.getTable('products').get('B2')).toEqual({ sku: 'B2', price: 4 })
  })

  it('is atomic: a row failing the schema names its line, and no table is created', () => {
    const db = new Database()
    const file = csvFile('name,age\nAda,36\nAlan,"forty\none"\nGrace,85\n')
    const error = expectDictDBError(() => db.importCsv(file, 'people', { schema: { name: 'string', age: 'integer' } }), 'SchemaValidationError', /^Line 3 of `.*data\.csv`: .*age/)
    expect((error as SchemaValidationError & { line: number }).line).toBe(3)
    expect(error.field).toBe('age')
    expect(db.hasTable('people')).toBe(false)
  })

  it('is atomic across chunks: a duplicate key far down the file imports nothing', () => {
    withLimits({ itemsPerChunk: 10 })
    const db = new Database()
    const lines = ['id,v', ...Array.from({ length: 100 }, (_, i) => `${i + 1},${i}`), '50,dup']
    const error = thrown(() => db.importCsv(csvFile(lines.join('\n')), 't'))
    expect(error).toBeInstanceOf(DuplicateKeyError)
    expect((error as Error).message).toMatch(/^Line 102 of/)
    expect(db.listTables()).toEqual([])
  })

  it('validates with a Standard Schema', () => {
    const db = new Database()
    const schema = z.object({ id: z.number().optional(), name: z.string().min(2) })
    expectDictDBError(() => db.importCsv(csvFile('name\nAda\nX\n'), 't', { schema }), 'SchemaValidationError', /^Line 3 /)
  })

  it('refuses an existing table name with DuplicateTableError', () => {
    const db = new Database()
    db.createTable('t').insert({ a: 1 })
    const before = snapshot(db)
    expectDictDBError(() => db.importCsv(csvFile('a\n2\n'), 't'), 'DuplicateTableError', /already exists/)
    expect(snapshot(db)).toEqual(before)
  })

  it('reports malformed CSV and a missing file clearly, creating nothing', () => {
    const db = new Database()
    expectDictDBError(() => db.importCsv(csvFile('a,b\n1,2,3\n'), 't'), 'CorruptFileError', /Line 2 of .* has 3 field\(s\), the header has 2/)
    expectDictDBError(() => db.importCsv(csvFile('a,b\n"1,2\n'), 't'), 'CorruptFileError', /not valid CSV/)
    expectDictDBError(() => db.importCsv(join(tempDir(), 'none.csv'), 't'), 'FileSystemError', /no such file/)
    expectDictDBError(() => db.importCsv(csvFile('a,a\n1,2\n'), 't'), 'InvalidArgumentError', /`a` twice/)
    expectDictDBError(() => db.importCsv(csvFile('a\n1\n'), 't', { delimter: ';' } as never), 'InvalidArgumentError', /delimiter/)
    expect(db.listTables()).toEqual([])
  })

  it('streams a large file in blocks and chunks', () => {
    withLimits({ itemsPerChunk: 100 })
    const rows = Array.from({ length: 20_000 }, (_, i) => `${i},"name ${i}, with a comma",${i % 3 === 0}`)
    const db = new Database()
    expect(db.importCsv(csvFile(['n,name,flag', ...rows].join('\n')), 'big')).toBe(20_000)
    expect(db.getTable('big').get(20_000)).toEqual({ id: 20_000, n: 19_999, name: 'name 19999, with a comma', flag: false })
  })
})

describe('exportCsv', () => {
  function people(): Database {
    const db = new Database()
    db.createTable('people').insert([
      { name: 'Ada', age: 36, born: new Date('1815-12-10T00:00:00.000Z'), note: 'said "hi", left\nearly', big: 10n ** 20n },
      { name: 'Alan', age: 41, tags: ['a', 'b'], empty: '' },
      { name: 'Grace', age: 85, nested: { at: new Date(0) } },
    ])
    return db
  }

  it('columns naming a field a type-string schema does not have is an error, and no file is written', () => {
    const db = new Database()
    const t = db.createTable('typed', { schema: { name: 'string' } })
    t.insert({ name: 'Ada' })
    const file = join(tempDir(), 'typo.csv')
    expectDictDBError(() => t.exportCsv(file, { columns: ['nmae'] }), 'InvalidArgumentError', /`nmae`/, /`name`/)
    expect(existsSync(file)).toBe(false)
  })

  it('writes every column with RFC 4180 quoting and returns the row count', () => {
    const file = join(tempDir(), 'out.csv')
    expect(people().getTable('people').exportCsv(file)).toBe(3)
    expect(readFileSync(file, 'utf8')).toBe(
      'id,name,age,born,note,big,tags,empty,nested\n' +
        '1,Ada,36,1815-12-10T00:00:00.000Z,"said ""hi"", left\nearly",100000000000000000000,,,\n' +
        '2,Alan,41,,,,"[""a"",""b""]","",\n' +
        '3,Grace,85,,,,,,"{""at"":{""$date"":""1970-01-01T00:00:00.000Z""}}"\n',
    )
  })

  it('takes columns, where and delimiter', () => {
    const db = people()
    const t = db.getTable('people')
    const file = join(tempDir(), 'out.csv')
    expect(t.exportCsv(file, { columns: ['name', 'age'], where: t.field('age').gt(40), delimiter: ';' })).toBe(2)
    expect(readFileSync(file, 'utf8')).toBe('name;age\nAlan;41\nGrace;85\n')
  })

  it('round-trips through importCsv (empty strings and missing values stay apart)', () => {
    const db = people()
    const file = join(tempDir(), 'out.csv')
    db.getTable('people').exportCsv(file, { columns: ['id', 'name', 'age', 'tags', 'empty', 'nested'] })
    const back = new Database()
    back.importCsv(file, 'people')
    expect(back.getTable('people').get(2)).toEqual({ id: 2, name: 'Alan', age: 41, tags: ['a', 'b'], empty: '' })
    expect(back.getTable('people').get(3)?.nested).toEqual({ at: new Date(0) })
    expect(back.getTable('people').get(1)).toEqual({ id: 1, name: 'Ada', age: 36 })
  })

  it('exports -0 as -0 and imports it back as -0, in a cell and nested', () => {
    const db = new Database()
    db.createTable('t').insert([{ id: 1, z: -0, nested: { z: -0 } }, { id: 2, z: 0, nested: { z: 0 } }])
    const file = join(tempDir(), 'out.csv')
    db.getTable('t').exportCsv(file)
    const back = new Database()
    back.importCsv(file, 't')
    const [negative, positive] = back.getTable('t').all() as Array<Record<string, any>>
    expect([Object.is(negative?.z, -0), Object.is(negative?.nested.z, -0)]).toEqual([true, true])
    expect([Object.is(positive?.z, 0), Object.is(positive?.nested.z, 0)]).toEqual([true, true])
  })

  it('can start with a BOM and skip the header', () => {
    const file = join(tempDir(), 'out.csv')
    people().getTable('people').exportCsv(file, { columns: ['name'], bom: true, header: false })
    expect(readFileSync(file, 'utf8')).toBe('\uFEFFAda\nAlan\nGrace\n')
  })

  it('columns: [] is an error (it would write empty lines), and no file is written', () => {
    const file = join(tempDir(), 'none.csv')
    expectDictDBError(() => people().getTable('people').exportCsv(file, { columns: [] }), 'InvalidArgumentError', /`columns`/, /at least one field/)
    expect(existsSync(file)).toBe(false)
  })

  it("with lineEnding: 'crlf', ends every record with CRLF as RFC 4180 does, line breaks inside quoted fields kept as they are", () => {
    const file = join(tempDir(), 'crlf.csv')
    people().getTable('people').exportCsv(file, { columns: ['name', 'note'], lineEnding: 'crlf' })
    expect(readFileSync(file, 'utf8')).toBe('name,note\r\nAda,"said ""hi"", left\nearly"\r\nAlan,\r\nGrace,\r\n')
  })

  it('a CRLF export reads back through importCsv like an LF one', () => {
    const db = people()
    const lf = join(tempDir(), 'lf.csv')
    const crlf = join(tempDir(), 'crlf.csv')
    db.getTable('people').exportCsv(lf, { columns: ['id', 'name', 'note'] })
    db.getTable('people').exportCsv(crlf, { columns: ['id', 'name', 'note'], lineEnding: 'crlf' })
    const back = new Database()
    back.importCsv(lf, 'lf')
    back.importCsv(crlf, 'crlf')
    expect(back.getTable('crlf').all()).toEqual(back.getTable('lf').all())
    expect(back.getTable('crlf').get(1)?.note).toBe('said "hi", left\nearly')
  })

  it('checks its arguments', () => {
    const t = people().getTable('people')
    expectDictDBError(() => t.exportCsv(join(tempDir(), 'x'), { delimiter: '"' }), 'InvalidArgumentError', /delimiter/)
    expectDictDBError(() => t.exportCsv(join(tempDir(), 'x'), { colums: ['a'] } as never), 'InvalidArgumentError', /columns/)
    expectDictDBError(() => t.exportCsv(join(tempDir(), 'x'), { lineEnding: 'cr' as never }), 'InvalidArgumentError', /`lineEnding`/, /'lf' or 'crlf'/, /cr/)
  })
})
