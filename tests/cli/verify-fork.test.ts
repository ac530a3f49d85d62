import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT, verify, type Context } from '../../src/cli/commands'
import { Reporter } from '../../src/cli/progress'
import { BackupManager, Database } from '../../src/index'
import { tempDir } from '../persist/support'

/** A folder as two writers without a lock left it: A's full-1 and delta-2, and B's full-2. */
async function forkedFolder(): Promise<string> {
  const a = new Database()
  a.createTable('t').insert({ by: 'a' })
  const dirA = tempDir()
  const backupsA = new BackupManager(a, dirA, { incremental: true })
  await backupsA.backupNow()
  a.getTable('t').insert({ by: 'a' })
  await backupsA.backupNow()
  const b = new Database()
  b.createTable('t').insert({ by: 'b' })
  const dirB = tempDir()
  const backupsB = new BackupManager(b, dirB)
  await backupsB.backupNow()
  await backupsB.backupNow()
  const dir = tempDir()
  for (const name of ['full-000000000001.json', 'delta-000000000002.json']) copyFileSync(join(dirA, name), join(dir, name))
  copyFileSync(join(dirB, 'full-000000000002.json'), join(dir, 'full-000000000002.json'))
  return dir
}

describe('dictdb verify of a backup folder', () => {
  it('names a forked chain as such, and exits with the partial code', async () => {
    const dir = await forkedFolder()
    const lines: string[] = []
    const ctx: Context = { reporter: new Reporter({ tty: false, quiet: true }), json: false, out: (l) => lines.push(l), logger: { warn() {}, error() {} } }
    expect(verify(ctx, dir)).toBe(EXIT.partial)
    const text = lines.join('\n')
    expect(text).toMatch(/FORKED +#2: full-000000000002\.json and delta-000000000002\.json share a sequence number: two BackupManagers wrote into this folder at once/)
    expect(text).toMatch(/The chain is forked/)
    expect(text).not.toMatch(/missing or unusable/)
  })

  it('reports the fork in a restore and warns about it', async () => {
    const dir = await forkedFolder()
    const warnings: string[] = []
    const report = BackupManager.restoreWithReport(dir, { logger: { warn: (m) => warnings.push(m), error() {} } })
    expect(report.forks).toEqual([{ sequence: 2, files: ['full-000000000002.json', 'delta-000000000002.json'] }])
    expect(warnings.join('\n')).toMatch(/are forked: two BackupManagers wrote into the folder at once/)
  })
})
