import * as real from 'node:fs'
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database, FileSystemError } from '../../src/index'
import { replaceFileSystem, type FileSystem } from '../../src/persist/fs'
import { snapshot } from '../support/helpers'
import { FORMATS, richDatabase, tempDir } from './support'

/** A system error as Node.js makes them. */
function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated failure`), { code, errno: -28, syscall: 'write' })
}

/** Runs `fn` with some file-system calls replaced, the real ones back afterwards. */
async function withFs<R>(overrides: Partial<FileSystem>, fn: () => R | Promise<R>): Promise<R> {
  const restore = replaceFileSystem(overrides)
  try {
    return await fn()
  } finally {
    restore()
  }
}

/** A writeSync that fails with ENOSPC once `budget` bytes are written (a disk filling up). */
function fillingDisk(budget: number): Partial<FileSystem> {
  let written = 0
  return {
    writeSync(fd, buffer, offset, length, position) {
      if (written + length > budget) throw systemError('ENOSPC')
      written += length
      return real.writeSync(fd, buffer, offset, length, position)
    },
    async write(fd, buffer, offset, length, position) {
      if (written + length > budget) throw systemError('ENOSPC')
      written += length
      return real.writeSync(fd, buffer, offset, length, position)
    },
  }
}

const SAVES = [
  { name: 'save', save: async (db: Database, file: string, format: 'json' | 'binary') => db.save(file, { format }) },
  { name: 'saveAsync', save: (db: Database, file: string, format: 'json' | 'binary') => db.saveAsync(file, { format }) },
] as const

describe.each(SAVES)('$name', ({ save }) => {
  describe.each(FORMATS)('in %s', (format) => {
    it('leaves the previous file intact when the disk fills up, and no temp file', async () => {
      const dir = tempDir()
      const file = join(dir, 'db')
      const old = new Database()
      old.createTable('old').insert({ v: 1 })
      old.save(file, { format })
      const before = readFileSync(file)
      const full = join(dir, 'size')
      richDatabase().save(full, { format })
      const size = statSync(full).size
      real.unlinkSync(full)
      for (const budget of [0, 10, 100, size - 1]) {
        const error = await withFs(fillingDisk(budget), () => save(richDatabase(), file, format).then(() => null, (e: unknown) => e))
        expect(error).toBeInstanceOf(FileSystemError)
        expect((error as FileSystemError).systemCode).toBe('ENOSPC')
        expect((error as Error).message).toMatch(/no space left.*previous file is intact/)
        expect(readFileSync(file).equals(before)).toBe(true)
        expect(readdirSync(dir)).toEqual(['db'])
      }
      expect(Database.load(file).listTables()).toEqual(['old'])
    })

    it.each(['fsyncSync', 'renameSync', 'closeSync'] as const)('leaves the previous file intact when %s fails', async (call) => {
      const dir = tempDir()
      const file = join(dir, 'db')
      new Database().save(file, { format })
      const before = readFileSync(file)
      const async = { fsyncSync: 'fsync', renameSync: 'rename', closeSync: 'close' }[call]
      let failed = false
      const fail = () => {
        if (failed) return true
        failed = true
        throw systemError('EIO')
      }
      const overrides = {
        [call]: (...args: unknown[]) => fail() && (real[call] as (...a: unknown[]) => unknown)(...args),
        [async]: async (...args: unknown[]) =>
          fail() && (await new Promise((res, rej) => (real[async as 'close'] as (...a: unknown[]) => void)(...args, (e: unknown, v: unknown) => (e ? rej(e) : res(v))))),
      } as Partial<FileSystem>
      await expect(withFs(overrides, () => save(richDatabase(), file, format))).rejects.toThrow(FileSystemError)
      expect(readFileSync(file).equals(before)).toBe(true)
      expect(readdirSync(dir)).toEqual(['db'])
    })
  })
})

describe('an atomic save', () => {
  it('reports a failing directory fsync after the rename: the new file is in place', () => {
    const dir = tempDir()
    const file = join(dir, 'db')
    const restore = replaceFileSystem({
      fsyncSync(fd) {
        if (statSync(join(dir)).ino === real.fstatSync(fd).ino) throw systemError('EIO')
        real.fsyncSync(fd)
      },
    })
    try {
      expect(() => richDatabase().save(file)).toThrow(/directory could not be synced; the new file is in place/)
    } finally {
      restore()
    }
    expect(snapshot(Database.load(file))).toEqual(snapshot(richDatabase()))
  })

  it('keeps the mode of the file it replaces', () => {
    const file = join(tempDir(), 'db')
    writeFileSync(file, 'old')
    chmodSync(file, 0o600)
    new Database().save(file)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('says so when the directory does not exist', () => {
    expect(() => new Database().save(join(tempDir(), 'missing', 'db'))).toThrow(/no such file or directory/)
  })

  it('fsyncs the file and its directory, and renames', () => {
    const dir = tempDir()
    const calls: string[] = []
    const restore = replaceFileSystem({
      fsyncSync: (fd) => (calls.push('fsync'), real.fsyncSync(fd)),
      renameSync: (a, b) => (calls.push('rename'), real.renameSync(a, b)),
    })
    try {
      new Database().save(join(dir, 'db'))
    } finally {
      restore()
    }
    expect(calls).toEqual(['fsync', 'rename', 'fsync'])
  })
})
