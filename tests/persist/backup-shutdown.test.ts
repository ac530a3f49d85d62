import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { LOCK_NAME } from '../../src/persist/backup/folder-lock'
import { snapshot } from '../support/helpers'
import { backupFiles, startChild, tempDir } from './support'

function shop(): Database {
  const db = new Database()
  db.createTable('orders').insert([{ qty: 1 }, { qty: 2 }])
  return db
}

describe('BackupManager.stop()', () => {
  it('writes what changed since the last backup before it resolves', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true, intervalMs: 3_600_000 })
    backups.start()
    await backups.backupNow()
    db.getTable('orders').insert({ qty: 3 })
    await backups.stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
    expect(backupFiles(dir)).toHaveLength(2)
  })

  it('writes a full backup of a database it never backed up', async () => {
    const db = shop()
    const dir = tempDir()
    await new BackupManager(db, dir).stop()
    expect(snapshot(BackupManager.restore(dir))).toEqual(snapshot(db))
  })

  it('writes nothing when nothing changed since the last backup', async () => {
    const dir = tempDir()
    const backups = new BackupManager(shop(), dir, { incremental: true })
    await backups.backupNow()
    await backups.stop()
    expect(backupFiles(dir)).toHaveLength(1)
  })

  it('with discardPending writes nothing, and the changes since the last backup are not kept', async () => {
    const db = shop()
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    const before = snapshot(db)
    db.getTable('orders').insert({ qty: 3 })
    await backups.stop({ discardPending: true })
    expect(snapshot(BackupManager.restore(dir))).toEqual(before)
  })

  it('gives the folder up: its lock file is gone', async () => {
    const dir = tempDir()
    const backups = new BackupManager(shop(), dir)
    await backups.backupNow()
    expect(existsSync(join(dir, LOCK_NAME))).toBe(true)
    await backups.stop()
    expect(existsSync(join(dir, LOCK_NAME))).toBe(false)
  })

  it('keeps every hit of an HTTP counter stopped by SIGTERM (a real child process)', async () => {
    const dir = tempDir()
    const server = startChild('counter-server', [dir])
    const port = Number((await server.line(/^port \d+$/)).slice(5))
    const N = 300
    for (let i = 1; i <= N; i++) expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe(String(i))
    server.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(BackupManager.restore(dir).getTable('counters').get('hits')).toEqual({ id: 'hits', n: N })
  })
})
