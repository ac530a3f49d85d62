/**
 * What generated sequences exercise, measured on the model alone: sequence lengths, table
 * sizes, and per operation how often it succeeds with a non-empty result, with an empty one,
 * or fails (and with which code). Run with `npx tsx tests/model/print-stats.ts` when tuning
 * the generators: operations that almost always fail or return nothing test little.
 */
import fc from 'fast-check'
import { modelCall } from './model-ops'
import { initialIndexesArb, opsArb, type Op, type OpWeights } from './ops'
import { Model, ModelError } from './reference'

export function generationStats(w: OpWeights, numRuns = 200): Record<string, unknown> {
  const samples = fc.sample(fc.tuple(initialIndexesArb(w.unique), opsArb(w)), { numRuns, seed: 42 })
  const outcomes: Record<string, { nonEmpty: number; empty: number; errors: Record<string, number> }> = {}
  const sizes: number[] = []
  for (const [initial, ops] of samples) {
    const m = new Model()
    for (const i of initial) m.createIndex(i.field, i.type, i.unique)
    const run = (op: Op): void => {
      const o = (outcomes[op.kind] ??= { nonEmpty: 0, empty: 0, errors: {} })
      try {
        const v = apply(m, op, run)
        if (v === 0 || v === undefined || (Array.isArray(v) && v.length === 0)) o.empty++
        else o.nonEmpty++
      } catch (e) {
        if (!(e instanceof ModelError)) throw e
        o.errors[e.code] = (o.errors[e.code] ?? 0) + 1
      }
    }
    ops.forEach(run)
    sizes.push(m.rows.size)
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { meanLength: mean(samples.map(([, ops]) => ops.length)), meanFinalSize: mean(sizes), maxFinalSize: Math.max(...sizes), outcomes }
}

function apply(m: Model, op: Op, run: (op: Op) => void): unknown {
  switch (op.kind) {
    case 'createIndex':
      return m.createIndex(op.field, op.type, op.unique) ?? 1
    case 'dropIndex':
      return m.dropIndex(op.field) ?? 1
    case 'txn': {
      const s = m.snapshot()
      op.body.forEach(run)
      if (op.end !== 'return') m.restore(s)
      return 1
    }
    default:
      return modelCall(m, op)
  }
}
