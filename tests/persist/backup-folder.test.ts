import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, renameSync as realRenameSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database, InvalidStateError } from '../../src/index'
import { FolderLock, LOCK_NAME } from '../../src/persist/backup/folder-lock'
import { replaceFileSystem } from '../../src/persist/fs'
import { startChild, tempDir } from './support'

const quiet = { warn() {}, error() {} }

function db(name: string): Database {
  const d = new Database()
  d.createTable('writer').insert({ id: 1, name })
  return d
}

/** The pid of a process that has exited (so is not running). */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(result.stdout)
}

describe('a BackupManager owns its folder', () => {
  it('refuses a second writer on the same folder with an InvalidStateError naming the owner', async () => {
    const dir = tempDir()
    await new BackupManager(db('a'), dir).backupNow()
    const second = new BackupManager(db('b'), dir, { logger: quiet })
    await expect(second.backupNow()).rejects.toThrow(InvalidStateError)
    await expect(second.backupNow()).rejects.toThrow(new RegExp(`in use by process ${process.pid} on ${hostname()}.*fork`))
    expect(BackupManager.restore(dir).getTable('writer').get(1)).toEqual({ id: 1, name: 'a' })
  })

  it('lets another writer in once the first has stopped', async () => {
    const dir = tempDir()
    const first = new BackupManager(db('a'), dir)
    await first.backupNow()
    await first.stop()
    await new BackupManager(db('b'), dir).backupNow()
    expect(BackupManager.restore(dir).getTable('writer').get(1)).toEqual({ id: 1, name: 'b' })
  })

  it('takes over the lock of a process that is not running, and says so', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: deadPid(), host: hostname(), token: 'old', since: '2020-01-01T00:00:00.000Z' }))
    const warnings: string[] = []
    await new BackupManager(db('b'), dir, { logger: { warn: (m) => warnings.push(m), error() {} } }).backupNow()
    expect(warnings.join('\n')).toMatch(/took over the backup folder .* which is not running/)
    expect(JSON.parse(readFileSync(join(dir, LOCK_NAME), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() })
  })

  it('of two writers taking over the same dead lock at once, one gets the folder and the other is refused', () => {
    const dir = tempDir()
    const path = join(dir, LOCK_NAME)
    writeFileSync(path, JSON.stringify({ pid: deadPid(), host: hostname(), token: 'old', since: '2020-01-01T00:00:00.000Z' }))
    const [a, b] = [new FolderLock(dir, quiet), new FolderLock(dir, quiet)]
    let raced = false
    const restore = replaceFileSystem({
      // B takes the folder over after A saw the dead lock and before A's own move of it.
      renameSync: (from, to) => {
        if (!raced && (from === path || to === path)) {
          raced = true
          b.acquire()
        }
        realRenameSync(from, to)
      },
    })
    try {
      expect(() => a.acquire()).toThrow(InvalidStateError)
    } finally {
      restore()
    }
    expect(raced).toBe(true)
    expect(() => b.acquire()).not.toThrow()
    expect(readdirSync(dir)).toEqual([LOCK_NAME])
  })

  it('stops writing when its lock was taken over behind its back', async () => {
    const dir = tempDir()
    const first = new BackupManager(db('a'), dir, { logger: quiet, incremental: true })
    await first.backupNow()
    writeFileSync(join(dir, LOCK_NAME), JSON.stringify({ pid: process.pid, host: hostname(), token: 'someone else', since: '' }))
    await expect(first.backupFull()).rejects.toThrow(/taken over/)
  })

  it('between two real processes: the second is refused while the first lives, and takes over once it is killed', async () => {
    const dir = tempDir()
    const first = startChild('folder-writer', [dir, 'first', 'hold'])
    expect(await first.line(/^(ok|refused)/)).toBe('ok 1')
    const second = startChild('folder-writer', [dir, 'second', 'once'])
    expect(await second.line(/^(ok|refused)/)).toMatch(new RegExp(`^refused InvalidStateError: The backup folder .* is in use by process ${first.pid} `))
    expect(await second.exited).toBe(0)
    first.kill('SIGKILL')
    await first.exited
    const third = startChild('folder-writer', [dir, 'third', 'once'])
    expect(await third.line(/^(ok|refused)/)).toBe('ok 2')
    expect(await third.line(/^warn/)).toMatch(new RegExp(`took over .* process ${first.pid} on`))
    expect(await third.exited).toBe(0)
    expect(BackupManager.restore(dir).getTable('writer').get(1)).toEqual({ id: 1, name: 'third' })
  })
})
