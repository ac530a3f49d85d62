import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database, DictDBError, FileSystemError } from '../../src/index'
import { expectDictDBError, snapshot } from '../support/helpers'
import { FORMATS, richDatabase, tempDir } from './support'

/** Byte positions to damage: every one near the ends (headers, trailers), every 3rd in between. */
function positions(length: number): number[] {
  return Array.from({ length }, (_, i) => i).filter((i) => i < 300 || i >= length - 300 || i % 3 === 0)
}

/** Loads `bytes` as a file: the database, or the error it threw. */
function tryLoad(dir: string, bytes: Uint8Array): Database | unknown {
  const file = join(dir, 'damaged')
  writeFileSync(file, bytes)
  try {
    return Database.load(file)
  } catch (error) {
    return error
  }
}

describe.each(FORMATS)('a damaged %s file', (format) => {
  const dir = tempDir()
  const original = richDatabase()
  const file = join(dir, 'db')
  original.save(file, { format })
  const bytes = readFileSync(file)
  const expected = snapshot(original)

  it('loads truncated at any of hundreds of lengths as a CorruptFileError, never as partial data', () => {
    const work = tempDir()
    let rejected = 0
    const cuts = positions(bytes.length)
    for (const length of cuts) {
      const result = tryLoad(work, bytes.subarray(0, length))
      if (result instanceof Database) expect(snapshot(result)).toEqual(expected)
      else {
        expect(result, `cut at ${length}`).toBeInstanceOf(DictDBError)
        expect((result as DictDBError).code, `cut at ${length}: ${(result as Error).message}`).toBe('CorruptFileError')
        rejected++
      }
    }
    // Only the final newline of a JSON file may go (the content is whole without it).
    expect(rejected).toBeGreaterThanOrEqual(cuts.length - 1)
  })

  it('loads with a bit flipped at any of hundreds of places as a CorruptFileError, never as other data', () => {
    const work = tempDir()
    let rejected = 0
    const flips = positions(bytes.length)
    for (const i of flips) {
      const damaged = Buffer.from(bytes)
      damaged[i] = (damaged[i] as number) ^ (1 << (i % 8))
      const result = tryLoad(work, damaged)
      if (result instanceof Database) expect(snapshot(result), `flip at ${i}`).toEqual(expected)
      else {
        expect((result as DictDBError).code, `flip at ${i}: ${(result as Error).message}`).toBe('CorruptFileError')
        rejected++
      }
    }
    expect(rejected).toBe(flips.length)
  })
})

describe('loading bad input', () => {
  it('a missing file: FileSystemError ENOENT', () => {
    const error = expectDictDBError(() => Database.load(join(tempDir(), 'nope.json')), 'FileSystemError', /no such file/)
    expect((error as FileSystemError).systemCode).toBe('ENOENT')
    expect((error as FileSystemError).path).toMatch(/nope\.json$/)
  })

  it('a directory: FileSystemError', async () => {
    const dir = tempDir()
    expectDictDBError(() => Database.load(dir), 'FileSystemError', /is a directory/)
    await expect(Database.loadAsync(dir)).rejects.toThrow(/is a directory/)
  })

  it.each([
    ['an empty file', '', /is empty/],
    ['a text file', 'hello world\n', /not a dictdb file/],
    ['a PNG image', '\x89PNG\r\n\x1a\n\0\0\0\rIHDR', /not a dictdb file/],
    ['another JSON document', '{"hello": "world"}', /not a dictdb file/],
    ['a JSON array', '[1, 2, 3]', /not a dictdb file/],
    ['invalid JSON', '{"format": "dictdb", ', /not valid JSON/],
  ])('%s: CorruptFileError', async (_, content, message) => {
    const file = join(tempDir(), 'f')
    writeFileSync(file, content, 'latin1')
    expectDictDBError(() => Database.load(file), 'CorruptFileError', message)
    await expect(Database.loadAsync(file)).rejects.toThrow(message)
  })

  it('a newer JSON format version: CorruptFileError saying to upgrade', () => {
    const dir = tempDir()
    new Database().save(join(dir, 'db.json'))
    const text = readFileSync(join(dir, 'db.json'), 'utf8').replace('"version":1', '"version":2')
    writeFileSync(join(dir, 'v2.json'), text)
    expectDictDBError(() => Database.load(join(dir, 'v2.json')), 'CorruptFileError', /format version 2; this version of dictdb reads version 1\. Upgrade/)
  })

  it('a newer binary format version: CorruptFileError saying to upgrade', () => {
    expectDictDBError(() => Database.load(binaryWithFileVersion(4)), 'CorruptFileError', /binary format version 4; this version of dictdb reads version 3\. Upgrade/)
  })

  it('a binary file whose header frame disagrees with its file header on the version: CorruptFileError', () => {
    expectDictDBError(() => Database.load(binaryWithFileVersion(2)), 'CorruptFileError', /header frame says format version 3, the file header 2/)
  })

  it('leaves the database in memory as it was', () => {
    const db = richDatabase()
    const before = snapshot(db)
    const dir = tempDir()
    mkdirSync(join(dir, 'sub'))
    expect(() => Database.load(join(dir, 'sub'))).toThrow(FileSystemError)
    expect(() => db.save(join(dir, 'sub'))).toThrow(/is a directory/)
    expect(snapshot(db)).toEqual(before)
  })
})

/** An empty database saved in the binary format, with `version` written into its file header (the frames keep theirs). */
function binaryWithFileVersion(version: number): string {
  const dir = tempDir()
  new Database().save(join(dir, 'db.bin'), { format: 'binary' })
  const bytes = readFileSync(join(dir, 'db.bin'))
  bytes.writeUInt16BE(version, 8)
  writeFileSync(join(dir, `v${version}.bin`), bytes)
  return join(dir, `v${version}.bin`)
}
