import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { FORMATS, richDatabase, tempDir, withoutFsync } from './support'
import { savedBytes } from './ways-in'

/** The same object with its keys (at every depth) in another order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed)
  if (typeof value !== 'object' || value === null || value instanceof Date) return value
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]))
}

function withRecords(records: readonly Record<string, unknown>[]): Database {
  const db = new Database()
  db.createTable('t', { indexes: [{ field: 'b', type: 'sorted' }] }).insert(records.map((r) => ({ ...r })))
  return db
}

describe.each(FORMATS)('canonical %s files', (format) => {
  withoutFsync()

  it('are byte-identical for equal databases whose fields were given in different orders', () => {
    const records = [{ b: 1, a: 2, nested: { z: [{ y: 1, x: 2 }], c: new Date(0), $k: 1n } }, { id: 9, 10: 'ten', 9: 'nine', b: 'x' }]
    const one = savedBytes(withRecords(records), tempDir(), format)
    const other = savedBytes(withRecords(records.map((r) => reversed(r) as Record<string, unknown>)), tempDir(), format)
    expect(other.equals(one)).toBe(true)
  })

  it('come back byte-identical after a load and a save', () => {
    const dir = tempDir()
    const bytes = savedBytes(richDatabase(), dir, format)
    const again = savedBytes(Database.load(join(dir, `saved.${format}`)), tempDir(), format)
    expect(again.equals(bytes)).toBe(true)
  })

  it('are byte-identical for any record whatever the order of its fields (property)', () => {
    const value = fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.date({ noInvalidDate: true }))
    const record = fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }).filter((k) => k !== '__proto__' && k !== 'id'), fc.oneof(value, fc.dictionary(fc.string({ maxLength: 3 }).filter((k) => k !== '__proto__'), value, { maxKeys: 3 })), { maxKeys: 6 })
    fc.assert(
      fc.property(fc.array(record, { maxLength: 4 }), (records) => {
        const one = savedBytes(withRecords(records), tempDir(), format)
        const other = savedBytes(withRecords(records.map((r) => reversed(r) as Record<string, unknown>)), tempDir(), format)
        expect(other.equals(one)).toBe(true)
      }),
      { numRuns: 60 },
    )
  })

  it('give byte-identical full backups of equal databases', async () => {
    const records = [{ b: 1, a: { d: 1, c: 2 } }]
    const written = []
    for (const db of [withRecords(records), withRecords(records.map((r) => reversed(r) as Record<string, unknown>))]) {
      const result = await new BackupManager(db, tempDir(), { format }).backupFull()
      written.push(readFileSync(result.file))
    }
    expect((written[1] as Buffer).equals(written[0] as Buffer)).toBe(true)
  })
})

describe('canonical JSON', () => {
  it('writes the keys of every object sorted: integer-like keys by number, then the others', () => {
    const text = savedBytes(withRecords([{ b: 1, a: { d: [{ f: 1, e: 2 }], c: 2 }, 10: 1, 9: 2 }]), tempDir(), 'json').toString('utf8')
    expect(text).toContain('{"9":2,"10":1,"a":{"c":2,"d":[{"e":2,"f":1}]},"b":1,"id":1}')
    expect(text.split('\n')[0]).toMatch(/^\{"format":"dictdb","version":1,"kind":"database","tables":\[\{"count":1,"indexes":\[\{"field":"b","type":"sorted","unique":false\}\],"name":"t","nextAutoKey":2,"primaryKey":"id"\}\],"sections":\[$/)
  })
})
