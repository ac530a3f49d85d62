import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { expectDictDBError } from '../support/helpers'
import { FORMATS, tempDir } from './support'
import { SRC, runModule } from '../support/child'

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

// Child scripts run in a fresh node: msgpackr's extension registry is global to its module, so a
// registration made there must not reach any other test.

/** A database whose records hold -0 at the top, nested, in a list, and a plain 0. */
function negativeZeros(): Database {
  const db = new Database()
  db.createTable('t').insert([{ id: 1, z: -0, list: [-0, 0], deep: { z: -0 } }, { id: 2, z: 0 }, { id: 3, z: -0 }])
  return db
}

function negativeZerosKept(db: Database): boolean[] {
  const [one, two, three] = db.getTable('t').all() as Array<Record<string, any>>
  return [Object.is(one?.z, -0), Object.is(one?.list[0], -0), Object.is(one?.list[1], 0), Object.is(one?.deep.z, -0), Object.is(two?.z, 0), Object.is(three?.z, -0)]
}
const ALL_KEPT = [true, true, true, true, true, true]

describe.each(FORMATS)('-0 in backups (%s)', (format) => {
  it('a full backup keeps -0 apart from 0 through a restore', async () => {
    const dir = tempDir()
    const backups = new BackupManager(negativeZeros(), dir, { format })
    await backups.backupNow()
    await backups.stop()
    expect(negativeZerosKept(BackupManager.restore(dir))).toEqual(ALL_KEPT)
  })

  it('an incremental backup keeps the -0 its deltas carry through a restore', async () => {
    const db = new Database()
    db.createTable('t')
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true })
    await backups.backupNow()
    db.getTable('t').insert([{ id: 1, z: -0, list: [-0, 0], deep: { z: -0 } }, { id: 2, z: 0 }, { id: 3, z: 1 }])
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta' })
    db.getTable('t').update({ z: -0 }, { id: 3 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta' })
    await backups.stop()
    expect(negativeZerosKept(BackupManager.restore(dir))).toEqual(ALL_KEPT)
  })
})

describe.each(FORMATS)('Dates and bigints in backups (%s)', (format) => {
  const records = [
    { id: 1, d: new Date(5), big: 2n ** 80n, small: -7n },
    { id: 2, deep: { d: new Date(-1), list: [2n ** 64n, new Date(0)] } },
  ]

  it('a full backup keeps Dates and bigints through a restore', async () => {
    const db = new Database()
    db.createTable('t').insert(records)
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format })
    await backups.backupNow()
    await backups.stop()
    expect(BackupManager.restore(dir).getTable('t').all()).toEqual(records)
  })

  it('an incremental backup keeps the Dates and bigints its deltas carry through a restore', async () => {
    const db = new Database()
    db.createTable('t')
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true })
    await backups.backupNow()
    db.getTable('t').insert(records)
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta' })
    db.getTable('t').update({ big: 3n ** 50n }, { id: 2 })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta' })
    await backups.stop()
    expect(BackupManager.restore(dir).getTable('t').all()).toEqual([records[0], { ...records[1], big: 3n ** 50n }])
  })
})

/** An application's own msgpackr extension for Date (type 0x44) that gives 'app:<ms>' back. */
const APP_DATE = `addExtension({ Class: Date, type: 0x44, pack: (d) => Buffer.from(String(d.getTime())), unpack: (b) => 'app:' + b.toString() })`
/** An application's own unpacker for msgpackr's bigint extension type 0x42. */
const APP_BIGINT = `addExtension({ type: 0x42, unpack: () => 'mine' })`

describe('the binary format and msgpackr extensions of the application', () => {
  it("an application's msgpackr extensions for Date and bigint do not change an incremental binary backup's restore", () => {
    const dir = tempDir()
    const out = runModule(`
      import { addExtension } from 'msgpackr'
      ${APP_DATE}
      ${APP_BIGINT}
      const { BackupManager, Database } = await import(${JSON.stringify(SRC)})
      const db = new Database()
      db.createTable('t')
      const backups = new BackupManager(db, ${JSON.stringify(dir)}, { format: 'binary', incremental: true })
      await backups.backupNow()
      db.getTable('t').insert({ id: 1, d: new Date(5), big: 2n ** 80n })
      await backups.backupNow()
      await backups.stop()
      const back = BackupManager.restore(${JSON.stringify(dir)}).getTable('t').get(1)
      console.log(JSON.stringify([back.d instanceof Date && back.d.getTime() === 5, back.big === 2n ** 80n]))`)
    expect(out).toBe('[true,true]')
  })

  it('importing dictdb and saving -0 in binary registers no msgpackr extension 0x2d', () => {
    const out = runModule(`
      import { unpack } from 'msgpackr'
      const { Database } = await import(${JSON.stringify(SRC)})
      const db = new Database()
      db.createTable('t').insert({ id: 1, z: -0 })
      db.save(${JSON.stringify(join(tempDir(), 'db.bin'))}, { format: 'binary' })
      let read
      try { read = String(unpack(Uint8Array.from([0xd4, 0x2d, 0x00]))) } catch (e) { read = 'refused' }
      console.log(read)`)
    expect(out).toBe('refused')
  })

  it("an application's extension 0x2d registered after dictdb does not change what dictdb reads", () => {
    const out = runModule(`
      import { addExtension } from 'msgpackr'
      const { Database } = await import(${JSON.stringify(SRC)})
      class Mine {}
      addExtension({ Class: Mine, type: 0x2d, pack: () => Uint8Array.from([7]), unpack: () => 'mine' })
      const file = ${JSON.stringify(join(tempDir(), 'db.bin'))}
      const db = new Database()
      db.createTable('t').insert({ id: 1, z: -0, deep: [-0] })
      db.save(file, { format: 'binary' })
      const back = Database.load(file).getTable('t').get(1)
      console.log(JSON.stringify([Object.is(back.z, -0), Object.is(back.deep[0], -0)]))`)
    expect(out).toBe('[true,true]')
  })

  it("an application's extension 0x2d registered before dictdb is imported keeps working", () => {
    const out = runModule(`
      import { addExtension, pack, unpack } from 'msgpackr'
      class Mine {}
      addExtension({ Class: Mine, type: 0x2d, pack: () => Uint8Array.from([7]), unpack: () => 'mine' })
      const { Database } = await import(${JSON.stringify(SRC)})
      const file = ${JSON.stringify(join(tempDir(), 'db.bin'))}
      const db = new Database()
      db.createTable('t').insert({ id: 1, z: -0 })
      db.save(file, { format: 'binary' })
      const z = Database.load(file).getTable('t').get(1).z
      console.log(JSON.stringify([unpack(pack(new Mine())), Object.is(z, -0)]))`)
    expect(out).toBe('["mine",true]')
  })
})

/** A database holding Dates and bigints (both sides of int64) at the top, nested and in lists. */
const DATES_AND_BIGINTS = `
  const db = new Database()
  db.createTable('t').insert([
    { id: 1, d: new Date(5), big: 2n ** 80n, neg: -(2n ** 70n), small: 7n },
    { id: 2, deep: { d: new Date('1815-12-10T00:00:00.000Z'), list: [new Date(-1), -3n] } },
  ])`

/** Whether the database of DATES_AND_BIGINTS came back as it was saved (a script expression). */
const DATES_AND_BIGINTS_KEPT = `(() => {
  const [one, two] = back.getTable('t').all()
  return [one.d instanceof Date && one.d.getTime() === 5, one.big === 2n ** 80n, one.neg === -(2n ** 70n), one.small === 7n,
    two.deep.d instanceof Date && two.deep.d.getTime() === Date.UTC(1815, 11, 10), two.deep.list[0] instanceof Date && two.deep.list[0].getTime() === -1, two.deep.list[1] === -3n]
})()`

/** The bytes this process (no msgpackr extension of any application) writes for DATES_AND_BIGINTS. */
function referenceBytes(): string {
  const file = join(tempDir(), 'ref.bin')
  new Function('Database', 'file', `${DATES_AND_BIGINTS}; db.save(file, { format: 'binary' })`)(Database, file)
  return readFileSync(file).toString('hex')
}

describe.each([
  ['Date', APP_DATE],
  ['bigint', APP_BIGINT],
])("an application's msgpackr extension for %s", (_, extension) => {
  /** Saves and loads DATES_AND_BIGINTS with the extension registered before or after importing dictdb; prints what came back and the file's bytes. */
  function roundTrip(when: 'before' | 'after'): { kept: boolean[]; bytes: string } {
    const file = join(tempDir(), 'db.bin')
    const out = runModule(`
      import { addExtension } from 'msgpackr'
      import { readFileSync } from 'node:fs'
      ${when === 'before' ? extension : ''}
      const { Database } = await import(${JSON.stringify(SRC)})
      ${when === 'after' ? extension : ''}
      ${DATES_AND_BIGINTS}
      db.save(${JSON.stringify(file)}, { format: 'binary' })
      const back = Database.load(${JSON.stringify(file)})
      console.log(JSON.stringify({ kept: ${DATES_AND_BIGINTS_KEPT}, bytes: readFileSync(${JSON.stringify(file)}).toString('hex') }))`)
    return JSON.parse(out)
  }

  it.each(['before', 'after'] as const)('registered %s importing dictdb, does not change what a binary save and load give back', (when) => {
    expect(roundTrip(when).kept).toEqual([true, true, true, true, true, true, true])
  })

  it.each(['before', 'after'] as const)('registered %s importing dictdb, does not change the bytes dictdb writes', (when) => {
    expect(roundTrip(when).bytes).toBe(referenceBytes())
  })
})

describe("dictdb and the application's own msgpackr", () => {
  it("saving and loading Dates and bigints in binary leaves the application's own extension for Date working", () => {
    const out = runModule(`
      import { addExtension, pack, unpack } from 'msgpackr'
      ${APP_DATE}
      const { Database } = await import(${JSON.stringify(SRC)})
      ${DATES_AND_BIGINTS}
      const file = ${JSON.stringify(join(tempDir(), 'db.bin'))}
      db.save(file, { format: 'binary' })
      Database.load(file)
      console.log(JSON.stringify(unpack(pack([new Date(5), 1]))))`)
    expect(out).toBe('["app:5",1]')
  })

  it("saving and loading Dates and bigints in binary does not change the bytes of the application's own msgpackr", () => {
    const out = runModule(`
      import { pack, unpack } from 'msgpackr'
      const value = [new Date(5), new Date(1.5e12 + 7), 3n, -0, { a: 1 }]
      const before = pack(value).toString('hex')
      const { Database } = await import(${JSON.stringify(SRC)})
      ${DATES_AND_BIGINTS}
      const file = ${JSON.stringify(join(tempDir(), 'db.bin'))}
      db.save(file, { format: 'binary' })
      Database.load(file)
      console.log(JSON.stringify([before === pack(value).toString('hex'), unpack(pack(value))[0] instanceof Date]))`)
    expect(out).toBe('[true,true]')
  })
})

describe('binary format versions', () => {
  it('writes format version 3, in the file header and in the header frame', () => {
    const file = join(tempDir(), 'db.bin')
    negativeZeros().save(file, { format: 'binary' })
    const bytes = readFileSync(file)
    expect(bytes.readUInt16BE(8)).toBe(3)
    expect(bytes.includes(Buffer.from('version'))).toBe(true)
    expect(negativeZerosKept(Database.load(file))).toEqual(ALL_KEPT)
  })

  it('writes a Date and a bigint as the JSON tags, not as msgpackr extensions', () => {
    const file = join(tempDir(), 'db.bin')
    const db = new Database()
    db.createTable('t').insert({ id: 1, d: new Date(5), big: 2n ** 80n, small: 7n })
    db.save(file, { format: 'binary' })
    const bytes = readFileSync(file)
    expect([bytes.includes(Buffer.from('$date')), bytes.includes(Buffer.from('1970-01-01T00:00:00.005Z')), bytes.includes(Buffer.from('$bigint')), bytes.includes(Buffer.from('1208925819614629174706176'))]).toEqual([true, true, true, true])
    expect(Database.load(file).getTable('t').get(1)).toEqual({ id: 1, d: new Date(5), big: 2n ** 80n, small: 7n })
  })

  it('keeps a stored object shaped like the -0 tag as that object', () => {
    const file = join(tempDir(), 'db.bin')
    const db = new Database()
    db.createTable('t').insert([{ id: 1, meta: { $number: '-0' } }, { id: 2, $number: '-0' }])
    db.save(file, { format: 'binary' })
    expect(Database.load(file).getTable('t').all()).toEqual([{ id: 1, meta: { $number: '-0' } }, { id: 2, $number: '-0' }])
  })

  it('keeps stored objects shaped like the Date and bigint tags as those objects', () => {
    const file = join(tempDir(), 'db.bin')
    const db = new Database()
    const records = [{ id: 1, meta: { $date: '1970-01-01T00:00:00.005Z' } }, { id: 2, meta: [{ $bigint: '5' }] }]
    db.createTable('t').insert(records)
    db.save(file, { format: 'binary' })
    expect(Database.load(file).getTable('t').all()).toEqual(records)
  })

  it('still reads a version 2 file (dates and bigints as msgpackr wrote them, -0, indexes; tag-like objects)', () => {
    const t = Database.load(join(FIXTURES, 'v2-plain.bin')).getTable('t')
    const one = t.get(1) as Record<string, unknown>
    expect(one).toEqual({ id: 1, n: 1, born: new Date('1815-12-10T00:00:00.000Z'), big: 2n ** 80n, small: -5n, z: -0, meta: { $number: '-0' } })
    expect(Object.is(one.z, -0)).toBe(true)
    expect(t.get(2)).toEqual({ id: 2, n: 2, name: 'Ada', when: [new Date(5), { at: new Date(-1) }] })
    expect(t.get(3)).toEqual({ id: 3, n: 3, at: new Date(7), big: 3n ** 50n, small: 4n })
    expect(t.explain(t.field('n').gt(1)).strategy).toBe('index')
  })

  it("reads a version 2 file's Dates as written when the application's own Date extension has another type", () => {
    const out = runModule(`
      import { addExtension } from 'msgpackr'
      ${APP_DATE}
      const { Database } = await import(${JSON.stringify(SRC)})
      const t = Database.load(${JSON.stringify(join(FIXTURES, 'v2-plain.bin'))}).getTable('t')
      console.log(JSON.stringify([t.get(1).born instanceof Date, t.get(2).when[0] instanceof Date, t.get(1).big === 2n ** 80n]))`)
    expect(out).toBe('[true,true,true]')
  })

  it.each([
    ['bigint extension 0x42', APP_BIGINT, /version 2.*msgpackr extension 0x42/],
    ['timestamp extension -1', `addExtension({ type: 0xff, unpack: () => 'mine' })`, /version 2.*msgpackr extension -1/],
  ])("refuses a version 2 file with a CorruptFileError when the application replaced msgpackr's %s", (_, extension, pattern) => {
    const out = runModule(`
      import { addExtension } from 'msgpackr'
      ${extension}
      const { Database } = await import(${JSON.stringify(SRC)})
      try { Database.load(${JSON.stringify(join(FIXTURES, 'v2-plain.bin'))}); console.log('loaded') } catch (e) { console.log(e.code + ': ' + e.message) }`)
    expect(out).toMatch(/^CorruptFileError: /)
    expect(out).toMatch(pattern)
  })

  it('still reads a version 1 file (dates, bigints, indexes; a tag-like object is data there)', () => {
    const t = Database.load(join(FIXTURES, 'v1-plain.bin')).getTable('t')
    expect(t.get(1)).toEqual({ id: 1, n: 1, born: new Date('1815-12-10T00:00:00.000Z'), big: 2n ** 80n, meta: { $number: '-0' } })
    expect(t.get(2)).toEqual({ id: 2, n: 2, name: 'Ada' })
    expect(t.explain(t.field('n').gt(1)).strategy).toBe('index')
  })

  it('refuses a version 1 file holding -0 as extension 0x2d with a CorruptFileError that says so', async () => {
    const file = join(FIXTURES, 'v1-negative-zero.bin')
    const pattern = /format version 1.*-0.*0x2d.*JSON/
    expectDictDBError(() => Database.load(file), 'CorruptFileError', pattern)
    await expect(Database.loadAsync(file)).rejects.toThrow(pattern)
  })
})
