import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { expectDictDBError } from '../support/helpers'
import { FORMATS, tempDir } from './support'
import { CHILD_LIMIT_MS } from '../support/limits'

const SRC = new URL('../../src/index.ts', import.meta.url).href
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

/**
 * Runs an ES module script in a fresh node (msgpackr's extension registry is global to its module,
 * so a registration made here must not reach any other test). Prints what the script logs.
 */
function child(script: string): string {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return result.stdout.trim()
}

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

describe('the binary format and msgpackr extensions of the application', () => {
  it('importing dictdb and saving -0 in binary registers no msgpackr extension 0x2d', () => {
    const out = child(`
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
    const out = child(`
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
    const out = child(`
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

describe('binary format versions', () => {
  it('writes format version 2, in the file header and in the header frame', () => {
    const file = join(tempDir(), 'db.bin')
    negativeZeros().save(file, { format: 'binary' })
    const bytes = readFileSync(file)
    expect(bytes.readUInt16BE(8)).toBe(2)
    expect(bytes.includes(Buffer.from('version'))).toBe(true)
    expect(negativeZerosKept(Database.load(file))).toEqual(ALL_KEPT)
  })

  it('keeps a stored object shaped like the -0 tag as that object', () => {
    const file = join(tempDir(), 'db.bin')
    const db = new Database()
    db.createTable('t').insert([{ id: 1, meta: { $number: '-0' } }, { id: 2, $number: '-0' }])
    db.save(file, { format: 'binary' })
    expect(Database.load(file).getTable('t').all()).toEqual([{ id: 1, meta: { $number: '-0' } }, { id: 2, $number: '-0' }])
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
