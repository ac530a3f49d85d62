/**
 * Runs one operation sequence, in lock-step, on several tables ("variants": no index, hash,
 * sorted, mixed, unique...) each paired with its own reference model. After every operation:
 * each table's outcome equals its model's, the outcomes are identical across variants, and the
 * tables' contents and indexes agree with the model (`checkState`). Any difference throws, with
 * the step and both renderings, so fast-check can shrink the sequence.
 */
import { Database, DictDBError, avg, count, increment, max, min, sum, type Aggregation, type Table } from 'dictdb'
import { checkHandle, checkState, expectMutableCopy, expectReadOnly, fail, scribble, scribbleValue, type Handle, type Variant, type VariantSpec } from './checks'
import { modelWhere, toWhere } from './conditions'
import type { InitialIndex, Op, SelectSpec } from './ops'
import { modelCall, type RecordOp } from './model-ops'
import { Model, ModelError, type AggFn } from './reference'
import { clone, isNull, show, type Rec } from './values'

export type { VariantSpec } from './checks'

export interface RunOptions {
  /** `copy` of every generated select. */
  copy: boolean
}

/** What one call gave: a rendered value, or an error code. */
type Outcome = { value: string } | { error: string }

class Abort extends Error {
  constructor() {
    super('test: abort the transaction')
  }
}

export function runSequence(specs: VariantSpec[], initial: InitialIndex[], ops: Op[], options: RunOptions): void {
  const variants: Variant[] = []
  try {
    for (const spec of specs) variants.push(makeVariant(spec, initial))
    const runner = new Runner(variants, options)
    ops.forEach((op, step) => runner.step(op, step))
  } finally {
    for (const v of variants) for (const h of [...v.handles].reverse()) h.db.close()
  }
}

function makeVariant(spec: VariantSpec, initial: InitialIndex[]): Variant {
  const db = spec.shared !== undefined ? new Database({ shared: true, logBytes: 1 << 20 }) : new Database()
  const type = spec.indexType
  const indexes: InitialIndex[] =
    type === 'none' ? [] : initial.map((i) => ({ field: i.field, type: type === 'fromOp' ? i.type : type, unique: spec.unique && i.unique }))
  const table = db.createTable<Rec>('t', { indexes })
  const model = new Model('id')
  for (const i of indexes) model.createIndex(i.field, i.type, i.unique)
  const handles = [{ db, table }]
  if (spec.shared !== undefined) {
    const attached = Database.attach(db.handle())
    handles.push({ db: attached, table: attached.getTable<Rec>('t') })
  }
  return { spec, handles, table, model }
}

function handleFor(v: Variant, op: Op, step: number): Handle {
  const primary = v.handles[0] as Handle
  if (v.spec.shared === 'keysOnPrimary' && (op.kind === 'txn' || assignsKey(op))) return primary
  return v.handles[step % v.handles.length] as Handle
}

function assignsKey(op: Op): boolean {
  const auto = (r: Rec) => isNull(r.id)
  return (op.kind === 'insert' && auto(op.record)) || (op.kind === 'upsert' && auto(op.record)) || (op.kind === 'insertMany' && op.records.some(auto))
}

class Runner {
  constructor(
    readonly variants: Variant[],
    readonly options: RunOptions,
  ) {}

  step(op: Op, step: number): void {
    const traces = this.variants.map((v) => {
      const trace: string[] = []
      this.run(v, handleFor(v, op, step), op, trace, `step ${step}`)
      checkState(v, true, this.variants[0] as Variant, `after step ${step} (${op.kind})`)
      return trace
    })
    // Identical results at every step, whatever the indexes (index operations excepted).
    const first = (traces[0] as string[]).join('\n')
    traces.forEach((t, i) => {
      if (t.join('\n') !== first) {
        fail(`step ${step}: ${(this.variants[i] as Variant).spec.name} differs from ${(this.variants[0] as Variant).spec.name}`, t.join('\n'), first)
      }
    })
    const content = show((this.variants[0] as Variant).table.select({ copy: false }))
    for (const v of this.variants) {
      for (const h of v.handles) {
        const mine = show(h.table.select({ copy: false }))
        if (mine !== content) fail(`after step ${step}: contents of ${v.spec.name} differ`, mine, content)
      }
    }
  }

  /** Runs `op` on the variant's table and model, compares, and records the outcome in `trace`. Returns the table's error, if any. */
  run(v: Variant, h: Handle, op: Op, trace: string[], where: string): unknown {
    if (op.kind === 'txn') {
      trace.push(this.txn(v, h, op, trace, where))
      return undefined
    }
    if (op.kind === 'createIndex' || op.kind === 'dropIndex') {
      this.indexOp(v, h, op, where)
      trace.push('(index op)')
      return undefined
    }
    let engineError: unknown
    const engine = attempt(() => this.engineOp(h.table, op), (e) => (engineError = e))
    const model = attempt(() => modelOp(v.model, op))
    if (show(engine) !== show(model)) fail(`${where}: ${v.spec.name}: ${op.kind} ${show(op)}`, show(engine), show(model))
    trace.push(show(engine))
    return engineError
  }

  txn(v: Variant, h: Handle, op: Extract<Op, { kind: 'txn' }>, trace: string[], where: string): string {
    const snapshot = v.model.snapshot()
    const abort = new Abort()
    const token = { committed: true }
    let bodyError: unknown
    try {
      const result = h.db.transaction(() => {
        op.body.forEach((inner, i) => {
          if (bodyError !== undefined) return
          const error = this.run(v, h, inner, trace, `${where}.${i}`)
          // Reads inside a transaction see its own writes (through the handle that writes).
          checkHandle(v, h, `${where}.${i} inside a transaction`)
          if (error !== undefined && op.end === 'failOnError') bodyError = error
        })
        if (bodyError !== undefined) throw bodyError
        if (op.end === 'throw') throw abort
        return token
      })
      if (result !== token) fail(`${where}: transaction() must return the body's result`, show(result), show(token))
      return 'committed'
    } catch (error) {
      const expected = bodyError ?? abort
      if (error !== expected) throw error
      v.model.restore(snapshot)
      return 'rolled back'
    }
  }

  indexOp(v: Variant, h: Handle, op: Extract<Op, { kind: 'createIndex' | 'dropIndex' }>, where: string): void {
    if (v.spec.indexType === 'none') return // the reference table stays unindexed
    let engine: Outcome
    let model: Outcome
    if (op.kind === 'createIndex') {
      const type = v.spec.indexType === 'fromOp' ? op.type : v.spec.indexType
      const unique = v.spec.unique && op.unique
      engine = attempt(() => h.table.createIndex(op.field, { type, unique }))
      model = attempt(() => v.model.createIndex(op.field, type, unique))
    } else {
      engine = attempt(() => h.table.dropIndex(op.field))
      model = attempt(() => v.model.dropIndex(op.field))
    }
    if (show(engine) !== show(model)) fail(`${where}: ${v.spec.name}: ${op.kind} ${show(op)}`, show(engine), show(model))
  }

  engineOp(t: Table<Rec>, op: Exclude<Op, { kind: 'txn' | 'createIndex' | 'dropIndex' }>): unknown {
    switch (op.kind) {
      case 'insert': {
        const input = clone(op.record)
        try {
          return t.insert(input)
        } finally {
          scribble(input) // the table stored a copy: this must change nothing
        }
      }
      case 'insertMany': {
        const inputs = op.records.map(clone)
        try {
          return t.insert(inputs)
        } finally {
          inputs.forEach(scribble)
        }
      }
      case 'upsert': {
        const input = clone(op.record)
        try {
          return op.onConflict === undefined ? t.upsert(input) : t.upsert(input, { onConflict: op.onConflict })
        } finally {
          scribble(input)
        }
      }
      case 'update': {
        const changes: Record<string, unknown> = {}
        for (const [f, c] of Object.entries(op.changes)) changes[f] = 'set' in c ? clone(c.set) : increment(c.increment)
        try {
          return t.update(changes, toWhere(t, op.where))
        } finally {
          Object.values(changes).forEach(scribbleValue)
        }
      }
      case 'delete':
        return t.delete(toWhere(t, op.where))
      case 'select':
        return this.select(t, op.q)
      case 'count':
        return op.where.kind === 'all' ? t.count() : t.count(toWhere(t, op.where))
      case 'aggregate': {
        const aggs: Record<string, Aggregation> = {}
        for (const [name, a] of Object.entries(op.aggs)) aggs[name] = a.field === undefined ? count() : AGGREGATIONS[a.fn](a.field)
        const where = toWhere(t, op.where)
        const groupBy = op.groupBy?.length === 1 ? op.groupBy[0] : op.groupBy
        const result = t.aggregate(aggs, { ...(where === undefined ? {} : { where }), ...(groupBy === undefined ? {} : { groupBy }) })
        return groupBy === undefined ? result : groups(result)
      }
      case 'get': {
        const record = t.get(op.key)
        const rendered = new Rendered(show(record))
        if (record !== undefined) expectMutableCopy(record) // get() returns a copy
        return rendered
      }
    }
  }

  /** Renders the rows as returned, then checks copy / read-only semantics on them. */
  select(t: Table<Rec>, q: SelectSpec): Rendered {
    const where = toWhere(t, q.where)
    const orderBy = q.orderBy.length === 1 && q.orderByString ? q.orderBy[0] : q.orderBy.length > 0 ? q.orderBy : undefined
    const options = {
      ...(where === undefined ? {} : { where }),
      ...(orderBy === undefined ? {} : { orderBy }),
      ...(q.limit === undefined ? {} : { limit: q.limit }),
      ...(q.offset === undefined ? {} : { offset: q.offset }),
      ...(q.columns === undefined ? {} : { columns: q.columns }),
      ...(q.distinct ? { distinct: true } : {}),
      // copy: true is the default; leave it out half the time.
      ...(this.options.copy && q.orderByString ? {} : { copy: this.options.copy }),
    }
    const rows = t.select(options as Parameters<Table<Rec>['select']>[0])
    const rendered = new Rendered(show(rows))
    if (this.options.copy) rows.forEach(expectMutableCopy)
    else rows.forEach(expectReadOnly)
    return rendered
  }
}

/** A result rendered at the moment it was returned (before the test scribbles on copies). */
class Rendered {
  constructor(readonly text: string) {}
}

/** SPEC fixes no order of `groupBy` groups: compare them as a set. */
function groups(result: unknown): Rendered {
  return new Rendered(`groups ${show((result as Rec[]).map(show).sort())}`)
}

const AGGREGATIONS: Record<AggFn, (field: string) => Aggregation> = { count, sum, avg, min, max }

function modelOp(m: Model, op: RecordOp): unknown {
  const result = modelCall(m, op)
  if (op.kind === 'select') return new Rendered(show(result as Rec[]))
  return op.kind === 'aggregate' && op.groupBy !== undefined ? groups(result) : result
}

function attempt(fn: () => unknown, onError?: (e: unknown) => void): Outcome {
  try {
    const value = fn()
    return { value: value instanceof Rendered ? value.text : show(value) }
  } catch (error) {
    if (error instanceof DictDBError || error instanceof ModelError) {
      onError?.(error)
      return { error: error.code }
    }
    throw error
  }
}

