import * as real from 'node:fs'
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { BackupManager, Database, FileSystemError } from '../../src/index'
import { replaceFileSystem, type FileSystem } from '../../src/persist/fs'
import { snapshot } from '../support/helpers'
import { FORMATS, backupFiles, eachLine, fixture, tempDir } from './support'

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
}

const failingDisk: Partial<FileSystem> = {
  writeSync: () => {
    throw enospc()
  },
  write: async () => {
    throw enospc()
  },
}

/** A disk whose directories cannot be synced and whose files cannot be removed (a file written stays). */
const unsyncedDirectory: Partial<FileSystem> = {
  fsyncSync(fd) {
    if (real.fstatSync(fd).isDirectory()) throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' })
    real.fsyncSync(fd)
  },
  unlinkSync() {
    throw Object.assign(new Error('EIO: i/o error, unlink'), { code: 'EIO' })
  },
}

function shop(): Database {
  const db = new Database()
  db.createTable('items').insert([{ name: 'a' }, { name: 'b' }])
  return db
}

const quiet = () => ({ warn: vi.fn(), error: vi.fn() })

describe('BackupManager on a failing disk', () => {
  it('reports each failure with the count, keeps the changes, and recovers', async () => {
    const db = shop()
    const dir = tempDir()
    const failures: [string, number][] = []
    const backups = new BackupManager(db, dir, { incremental: true, onFailure: (e, n) => failures.push([(e as FileSystemError).systemCode ?? e.message, n]) })
    await backups.backupNow()
    const items = db.getTable('items')
    items.insert({ name: 'c' })
    const restore = replaceFileSystem(failingDisk)
    try {
      await expect(backups.backupNow()).rejects.toThrow(FileSystemError)
      items.update({ name: 'C' }, { name: 'c' })
      await expect(backups.backupNow()).rejects.toThrow(/no space left/)
      expect(backups.consecutiveFailures).toBe(2)
      expect(failures).toEqual([
        ['ENOSPC', 1],
        ['ENOSPC', 2],
      ])
    } finally {
      restore()
    }
    items.delete({ name: 'a' })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta', count: 3 })
    expect(backups.consecutiveFailures).toBe(0)
    await backups.stop()
    expect(backupFiles(dir).filter((f) => f.endsWith('.tmp'))).toEqual([])
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('reports a failing timer backup through onFailure, or the logger without one', async () => {
    const logger = quiet()
    const backups = new BackupManager(shop(), tempDir(), { minIntervalMs: 0, logger })
    const restore = replaceFileSystem(failingDisk)
    try {
      backups.notifyChange()
      await new Promise((r) => setTimeout(r, 20))
      await backups.flush()
    } finally {
      restore()
    }
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/backup .* failed \(1 in a row\)/), expect.any(FileSystemError))
    await backups.stop()
  })

  it('survives a crash between writing a delta and recording it', async () => {
    // The delta is renamed into place, then the directory fsync fails: the manager counts the
    // backup as failed and keeps its changes. Even if the file cannot be removed, the next
    // delta (written from the same point, carrying everything) supersedes it on restore.
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true, onFailure: () => {} })
    await backups.backupNow()
    const items = db.getTable('items')
    items.insert({ name: 'c' })
    const restore = replaceFileSystem(unsyncedDirectory)
    try {
      await expect(backups.backupNow()).rejects.toThrow(/directory could not be synced/)
    } finally {
      restore()
    }
    expect(backupFiles(dir).sort()).toEqual(['delta-000000000002.json', 'full-000000000001.json'])
    items.update({ name: 'B' }, { name: 'b' })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta', sequence: 3, count: 2 })
    await backups.stop()
    const report = BackupManager.restoreWithReport(dir)
    expect(report.applied.map((a) => a.sequence)).toEqual([3])
    expect(report.lost).toEqual([])
    expect(snapshot(report.db)).toEqual(snapshot(db))
  })
})

describe('a full backup that reached the disk though its write was reported failed', () => {
  it('is an orphan: the chain of the previous full backup, which goes further, is restored', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true, onFailure: () => {} })
    const items = db.getTable('items')
    await backups.backupNow() // full 1
    items.insert({ name: 'c' })
    await backups.backupNow() // delta 2
    items.insert({ name: 'd' })
    const atThree = snapshot(db)
    const restore = replaceFileSystem(unsyncedDirectory)
    try {
      await expect(backups.backupFull()).rejects.toThrow(/directory could not be synced/) // full 3 stays on disk
    } finally {
      restore()
    }
    items.insert({ name: 'e' })
    expect(await backups.backupNow()).toMatchObject({ kind: 'delta', sequence: 4 }) // still on full 1
    await backups.stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
    // If that chain breaks before the orphan, the orphan (a valid, later state) is used.
    writeFileSync(join(dir, 'delta-000000000004.json'), 'damaged')
    const report = BackupManager.restoreWithReport(dir, { logger: quiet() })
    expect(report.full.sequence).toBe(3)
    expect(snapshot(report.db)).toEqual(atThree)
    expect(report.lost.map((l) => l.sequence)).toEqual([4])
  })
})

describe.each(FORMATS)('BackupManager.restore (%s)', (format) => {
  /** A backup directory and the database state after each file was written. */
  async function history() {
    const db = new Database()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { format, incremental: true, maxDeltasBeforeFull: 3 })
    const states: unknown[] = []
    const t = db.createTable('t', { indexes: [{ field: 'n', type: 'sorted' }] })
    for (let i = 1; i <= 9; i++) {
      t.insert({ n: i, at: new Date(i) })
      if (i % 2 === 0) t.update({ n: -i }, { id: i - 1 })
      if (i === 5) db.createTable('late').insert({ x: 1n })
      if (i === 7) t.delete({ id: 2 })
      await backups.backupNow()
      states.push(snapshot(db))
    }
    await backups.stop()
    return { dir, states, files: backupFiles(dir).sort((a, b) => a.slice(-17).localeCompare(b.slice(-17))) }
  }

  it('restores every prefix of a backup directory to the state of its last file', async () => {
    const { dir, states, files } = await history()
    expect(files).toHaveLength(9)
    for (let k = 1; k <= files.length; k++) {
      const prefix = tempDir()
      for (const f of files.slice(0, k)) copyFileSync(join(dir, f), join(prefix, f))
      const report = BackupManager.restoreWithReport(prefix)
      expect(report.sequence, `prefix of ${k}`).toBe(k)
      expect(report.lost).toEqual([])
      expect(snapshot(report.db), `prefix of ${k}`).toEqual(states[k - 1])
    }
  })

  it('stops at a corrupt delta, restoring up to the one before, and says what is lost', async () => {
    const { dir, states, files } = await history()
    // Files: full 1, deltas 2 3 4, full 5, deltas 6 7 8, full 9. Remove full 9, damage delta 7.
    real.unlinkSync(join(dir, files[8] as string))
    const seven = join(dir, files[6] as string)
    const bytes = real.readFileSync(seven)
    bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0x20
    writeFileSync(seven, bytes)
    const logger = quiet()
    const report = BackupManager.restoreWithReport(dir, { logger })
    expect(report.full.sequence).toBe(5)
    expect(report.applied.map((a) => a.sequence)).toEqual([6])
    expect(report.lost.map((l) => l.sequence)).toEqual([7, 8])
    expect(report.lost[0]?.reason).toMatch(/corrupt|checksum/)
    expect(report.lost[1]?.reason).toMatch(/follows a missing or unusable/)
    expect(snapshot(report.db)).toEqual(states[5])
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/stops at delta-000000000006.*2 later backup file\(s\)/))
    expect(snapshot(BackupManager.restore(dir, { logger: quiet() }))).toEqual(states[5])
  })

  it('stops at a missing delta', async () => {
    const { dir, states, files } = await history()
    real.unlinkSync(join(dir, files[8] as string))
    real.unlinkSync(join(dir, files[6] as string))
    const report = BackupManager.restoreWithReport(dir, { logger: quiet() })
    expect(report.sequence).toBe(6)
    expect(report.lost.map((l) => l.sequence)).toEqual([8])
    expect(snapshot(report.db)).toEqual(states[5])
  })

  it('falls back to the previous generation when the newest full backup is corrupt', async () => {
    const { dir, states, files } = await history()
    const nine = join(dir, files[8] as string)
    writeFileSync(nine, real.readFileSync(nine).subarray(0, 100))
    const report = BackupManager.restoreWithReport(dir, { logger: quiet() })
    expect(report.full.sequence).toBe(5)
    expect(report.sequence).toBe(8)
    expect(report.lost).toEqual([{ file: files[8], sequence: 9, reason: expect.stringMatching(/truncated/) }])
    expect(snapshot(report.db)).toEqual(states[7])
  })

  it('refuses a directory with no usable full backup, or no directory', async () => {
    const { dir, files } = await history()
    for (const f of files) if (f.startsWith('full')) writeFileSync(join(dir, f), 'garbage')
    expect(() => BackupManager.restore(dir)).toThrow(/no usable full backup/)
    const empty = tempDir()
    mkdirSync(join(empty, 'sub'))
    expect(() => BackupManager.restore(join(empty, 'sub'))).toThrow(/holds no full backup/)
    expect(() => BackupManager.restore(join(empty, 'none'))).toThrow(FileSystemError)
    writeFileSync(join(empty, 'file'), '')
    expect(() => BackupManager.restore(join(empty, 'file'))).toThrow(/not a directory/)
  })
})

describe('a process killed while backing up', () => {
  // The limit is a hang guard over six child processes (the suite runs at nice 19 beside benchmarks).
  it.each(FORMATS)('leaves a directory that restores to at least the last backup it reported (%s)', { timeout: 600_000 }, async (format) => {
    for (let i = 0; i < 6; i++) {
      const dir = tempDir()
      const child = spawn(process.execPath, [fixture('backer'), dir, format], { stdio: ['ignore', 'pipe', 'inherit'] })
      let acked = 0
      await eachLine(child, (line) => {
        acked = Number(line.split(' ')[1])
        if (acked === 6 + i) setTimeout(() => child.kill('SIGKILL'), i * 3)
      })
      const db = BackupManager.restore(dir, { logger: quiet() })
      const generation = db.getTable('meta').get('generation')?.value as number
      expect(generation).toBeGreaterThanOrEqual(acked)
      expect(generation).toBeLessThanOrEqual(acked + 1)
      const rows = db.getTable('rows')
      expect(rows.count()).toBe(5000 + generation)
      expect(rows.count(rows.field('generation').gt(generation))).toBe(0)
    }
  })
})
