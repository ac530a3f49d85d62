import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { eachLine, fixture, tempDir } from './support'

/**
 * Starts the saver child, lets it save a few generations, kills it (SIGKILL: no cleanup runs)
 * at a moment inside a save, and returns what it had reported.
 */
async function killMidSave(file: string, format: string, mode: string, delayMs: number): Promise<{ saved: number; started: number }> {
  const child = spawn(process.execPath, [fixture('saver'), file, format, '10000', mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  let saved = 0
  let started = 0
  await eachLine(child, (line) => {
    const [what, n] = line.split(' ')
    if (what === 'saved') saved = Number(n)
    if (what === 'start') {
      started = Number(n)
      // Once a save has completed, kill during a later one, `delayMs` into it.
      if (started === 2) setTimeout(() => child.kill('SIGKILL'), delayMs)
    }
  })
  return { saved, started }
}

describe('a process killed in the middle of a save', () => {
  // The limit is a hang guard over ten child processes: 139-151 s per case in a full run at load
  // ~12 (the suite at nice 19 beside benchmarks), 22-26 s in a run of a few files.
  it.each([
    ['json', 'sync'],
    ['binary', 'async'],
  ])('leaves the old file or the new one, whole (%s, %s)', { timeout: 600_000 }, async (format, mode) => {
    const dir = tempDir()
    const file = join(dir, 'db')
    const outcomes = { old: 0, new: 0 }
    for (let i = 0; i < 10; i++) {
      const { saved, started } = await killMidSave(file, format, mode, (i * 7) % 30)
      expect(saved).toBeGreaterThanOrEqual(1)
      const db = Database.load(file)
      const generation = db.getTable('meta').get('generation')?.value as number
      // The last save reported done, or the one after it if it got to its rename.
      expect([saved, started]).toContain(generation)
      expect(db.getTable('rows').count()).toBe(10000)
      expect(db.getTable('rows').count(db.getTable('rows').field('generation').ne(generation))).toBe(0)
      if (started > saved) outcomes[generation === saved ? 'old' : 'new']++
    }
    // Killed while a save was under way (started, not reported done), several times.
    expect(outcomes.old + outcomes.new).toBeGreaterThanOrEqual(5)
    // Only hidden temp files may be left over, never a file in place of the database.
    expect(readdirSync(dir).filter((f) => f !== 'db' && !/^\.db\..*\.tmp$/.test(f))).toEqual([])
  })
})
