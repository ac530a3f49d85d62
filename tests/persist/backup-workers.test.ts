import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { snapshot } from '../support/helpers'
import { fixture, tempDir } from './support'

function runWorker(db: Database, name: string, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fixture('worker-writer'), { workerData: { db: db.handle(), name, count } })
    worker.on('error', reject)
    worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))))
  })
}

describe('a BackupManager of a shared database', () => {
  it('backs up the commits of worker threads in its deltas', async () => {
    const db = new Database({ shared: true })
    db.createTable('events').insert({ from: 'main', i: 0 })
    const dir = tempDir()
    const backups = new BackupManager(db, dir, { incremental: true })
    expect(await backups.backupNow()).toMatchObject({ kind: 'full', count: 1 })
    await Promise.all([runWorker(db, 'w1', 200), runWorker(db, 'w2', 200)])
    const delta = await backups.backupNow()
    expect(delta).toMatchObject({ kind: 'delta' })
    expect(delta?.count).toBe(404) // 400 inserts, 2 createTable, 2 inserts
    await backups.stop()
    const restored = BackupManager.restore(dir)
    expect(snapshot(restored)).toEqual(snapshot(db))
    expect(restored.getTable('events').count()).toBe(401)
    db.close()
  })
})
