// A worker terminated in the middle of a ring write (src/shared/rings.ts), its writing flag set:
// the reaper clears the flag, so the next holder of the append mutex, which waits for every
// writing flag before it seals the rings, goes on; the entries the worker had published are
// sealed and kept, each once; the one it was writing never existed. In a child process with a time
// limit (programs/ring-termination.mjs; the worker loads the built package: `npm run build` first).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CHILD_LIMIT_MS } from '../support/limits'
import { RINGS_BASE, RING_WORDS, R_TAIL } from '../../src/shared/layout'

function run(): Promise<{ stdout: string; stderr: string; failed: boolean }> {
  const file = fileURLToPath(new URL('./programs/ring-termination.mjs', import.meta.url))
  return new Promise((resolve) => {
    const ring = JSON.stringify({ base: RINGS_BASE, words: RING_WORDS, tail: R_TAIL })
    execFile(process.execPath, [file, ring], { timeout: CHILD_LIMIT_MS, killSignal: 'SIGKILL' }, (error, stdout, stderr) => resolve({ stdout, stderr, failed: error !== null }))
  })
}

describe('a worker terminated with its ring\'s writing flag set', () => {
  it('leaves no holder of the append mutex waiting, and its published entries sealed once each', async () => {
    const out = await run()
    expect(out.failed, out.stderr).toBe(false)
    expect(JSON.parse(out.stdout)).toEqual({ append: 'ok', here: 1000, fresh: 1000, inserted: 0 })
  })
})
