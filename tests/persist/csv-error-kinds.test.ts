// importCsv names the line of a row whose insert failed by rethrowing the error as the same
// class with the line in its message (csv-import.ts atLine). FileSystemError's constructor takes
// (message, path, cause), not (message, context): rebuilt the general way it lost its path and
// system code (its `path` became the context object). Reachable when a schema's validator reads
// a file through dictdb and the file is missing.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database, FileSystemError } from '../../src/index'
import { tempDir } from './support'

describe('importCsv, a row whose validator fails on a missing file', () => {
  it('throws a FileSystemError with the line in its message and the missing file as its path and ENOENT', () => {
    const dir = tempDir()
    const file = join(dir, 'data.csv')
    writeFileSync(file, 'name\nAda\n')
    const missing = join(dir, 'missing.json')
    const schema = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value: unknown) => {
          Database.load(missing)
          return { value }
        },
      },
    }
    let error: unknown
    try {
      new Database().importCsv(file, 't', { schema: schema as never })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(FileSystemError)
    const e = error as FileSystemError & { line?: number }
    expect({ path: e.path, systemCode: e.systemCode, line: e.line }).toEqual({ path: missing, systemCode: 'ENOENT', line: 2 })
    expect(e.message).toMatch(/^Line 2 of `.*data\.csv`: Could not /)
  })
})
