import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { expect } from 'vitest'
import { CHILD_LIMIT_MS } from './limits'

/** dictdb's source entry, for `await import(...)` inside a child script. */
export const SRC = new URL('../../src/index.ts', import.meta.url).href

/**
 * Runs an ES module script in a fresh node, so process-wide changes it makes (msgpackr's registry,
 * Object.prototype) reach no other test. Bounded by the hang guard.
 */
export function spawnModule(script: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: CHILD_LIMIT_MS })
}

/** `spawnModule`, asserting it ended cleanly (status 0, nothing on stderr); gives what it logged, trimmed. */
export function runModule(script: string): string {
  const result = spawnModule(script)
  expect(result.stderr).toBe('')
  expect(result.status).toBe(0)
  return result.stdout.trim()
}
