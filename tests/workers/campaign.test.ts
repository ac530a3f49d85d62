// The fault campaign: rounds of random worker programs — reads, writes, transactions over tables
// in random order, async holders, listeners that read and write, terminations at random moments
// — each round in a child process with a time limit, so that a hang fails the round instead of
// the run. Each round checks that it ends by itself, that every listener heard each commit once
// and in order, that the final state equals the model built from the commits heard, and that no
// lock is left held (programs/campaign-round.mjs).
//
// DICTDB_CAMPAIGN_ROUNDS=200 runs more rounds; DICTDB_CAMPAIGN_SEED=<seed> starts from a given
// seed (a failing round's seed, with ROUNDS=1, replays its programs).
import { describe, expect, it } from 'vitest'
import { runProgram } from './support'
import { CHILD_LIMIT_MS } from '../support/limits'

const ROUNDS = Number(process.env.DICTDB_CAMPAIGN_ROUNDS ?? 5)
const BASE = Number(process.env.DICTDB_CAMPAIGN_SEED ?? Math.floor(Math.random() * 2 ** 31))
const seeds = Array.from({ length: ROUNDS }, (_, i) => (BASE + i) >>> 0)
console.log(`fault campaign: ${ROUNDS} rounds, seeds ${BASE}…${BASE + ROUNDS - 1} (replay one: DICTDB_CAMPAIGN_SEED=<seed> DICTDB_CAMPAIGN_ROUNDS=1)`)

describe('the fault campaign across worker_threads', () => {
  it.each(seeds)('round with seed %i ends by itself, with every commit heard once in order, the model state and no lock left', async (seed) => {
    const run = await runProgram('campaign-round', [String(seed)], CHILD_LIMIT_MS)
    expect({ seed, timedOut: run.timedOut, code: run.code, stderr: run.stderr }).toEqual({ seed, timedOut: false, code: 0, stderr: '' })
    const report = JSON.parse(run.stdout) as { problems: string[]; heard: number }
    expect({ seed, problems: report.problems }).toEqual({ seed, problems: [] })
    expect(report.heard).toBeGreaterThan(0)
  })
})
