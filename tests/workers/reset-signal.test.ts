import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BackupManager, Database, type Commit } from '../../src/index'

// Two handles of one shared database in the same thread behave as two threads: the second one
// only catches up when it is used, so a writer can overtake it in a small log.
const open: Database[] = []
const dirs: string[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function overtaken() {
  const writer = new Database({ shared: true, logBytes: 65536 })
  const table = writer.createTable('t')
  const reader = Database.attach(writer.handle())
  open.push(reader, writer)
  const commits: Commit[] = []
  reader.onCommit((commit) => commits.push(commit))
  const overtake = () => {
    for (let i = 0; i < 2000; i++) table.insert({ pad: 'x'.repeat(40) })
    reader.listTables() // catches up: too far behind, it rebuilds from the snapshot
  }
  return { writer, reader, commits, overtake }
}

describe('a replica rebuilt from a snapshot', () => {
  it('tells its commit listeners with a reset commit, after which it holds the full state', () => {
    const { reader, commits, overtake } = overtaken()
    overtake()
    expect(commits.some((c) => c.reset === true && c.ops.length === 0)).toBe(true)
    expect(reader.getTable('t').count()).toBe(2000)
  })

  it('makes an incremental BackupManager write a full backup next, not a delta missing changes', async () => {
    const { reader, overtake } = overtaken()
    const dir = mkdtempSync(join(tmpdir(), 'dictdb-reset-'))
    dirs.push(dir)
    const backups = new BackupManager(reader, dir, { incremental: true })
    expect(await backups.backupNow()).toMatchObject({ kind: 'full' })
    overtake()
    expect(await backups.backupNow()).toMatchObject({ kind: 'full' })
    backups.stop()
    expect(BackupManager.restore(dir).getTable('t').count()).toBe(2000)
  })
})
