/**
 * Model test of live queries: random commits against random watched queries. After every
 * commit, each view's rows equal a fresh `select` of its query, each commit called back at most
 * once (a rolled-back one never), and the diffs replayed on the first result give the last one.
 *
 * Reproduce a failure with the seed fast-check prints: FC_SEED=123 npx vitest run tests/live
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Database, and, or, type LiveView, type SelectOptions, type Table, type WatchDiff } from '../../src/index'

type Rec = { id: number; g: string | null; n: number | null }

const GROUPS = ['a', 'b', 'c', null] as const

/** Record writes: kept small so that keys collide and windows fill and empty. */
type Write =
  | { kind: 'insert'; g: string | null; n: number | null }
  | { kind: 'insertMany'; count: number; n: number }
  | { kind: 'update'; id: number; g?: string | null; n?: number | null }
  | { kind: 'updateAll'; n: number }
  | { kind: 'delete'; id: number }

type Commit = { kind: 'single'; write: Write } | { kind: 'tx'; writes: Write[]; rollback: boolean }

const groupArb = fc.constantFrom(...GROUPS)
const numArb = fc.option(fc.integer({ min: 0, max: 9 }), { nil: null })
const idArb = fc.integer({ min: 1, max: 40 })

const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), g: groupArb, n: numArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insertMany' as const), count: fc.integer({ min: 2, max: 80 }), n: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('update' as const), id: idArb, g: groupArb, n: numArb }, { requiredKeys: ['kind', 'id'] }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('updateAll' as const), n: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), id: idArb }) },
)

const commitArb: fc.Arbitrary<Commit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('single' as const), write: writeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tx' as const), writes: fc.array(writeArb, { minLength: 1, maxLength: 5 }), rollback: fc.boolean() }) },
)

interface QuerySpec {
  where: 'all' | 'groupA' | 'nRange' | 'or' | 'fn'
  orderBy?: 'n' | '-n' | 'g,-n'
  limit?: number
  offset?: number
  columns?: boolean
  distinct?: boolean
}

const queryArb: fc.Arbitrary<QuerySpec> = fc.record(
  {
    where: fc.constantFrom('all', 'groupA', 'nRange', 'or', 'fn'),
    orderBy: fc.constantFrom('n', '-n', 'g,-n'),
    limit: fc.integer({ min: 0, max: 6 }),
    offset: fc.integer({ min: 0, max: 4 }),
    columns: fc.boolean(),
    distinct: fc.boolean(),
  },
  { requiredKeys: ['where'] },
)

function toQuery(table: Table<Rec>, spec: QuerySpec): SelectOptions<Rec> {
  const n = table.field('n')
  const g = table.field('g')
  const where = {
    all: undefined,
    groupA: { g: 'a' },
    nRange: n.between(2, 6),
    or: or(g.eq('b'), and(n.gte(5), g.isNotNull())),
    fn: (r: Readonly<Rec>) => (r.n ?? 0) % 2 === 0,
  }[spec.where]
  const q: SelectOptions<Rec> = {}
  if (where !== undefined) q.where = where
  if (spec.orderBy !== undefined) q.orderBy = spec.orderBy === 'g,-n' ? ['g', '-n'] : spec.orderBy
  if (spec.limit !== undefined) q.limit = spec.limit
  if (spec.offset !== undefined) q.offset = spec.offset
  if (spec.distinct === true) {
    q.distinct = true
    q.columns = ['g']
  } else if (spec.columns === true) q.columns = ['id', 'n']
  return q
}

function applyWrite(table: Table<Rec>, w: Write): void {
  try {
    if (w.kind === 'insert') table.insert({ g: w.g, n: w.n } as Rec)
    else if (w.kind === 'insertMany') table.insert(Array.from({ length: w.count }, (_, i) => ({ g: GROUPS[i % 4], n: (w.n + i) % 10 }) as Rec))
    else if (w.kind === 'update') {
      const changes: Partial<Rec> = {}
      if (w.g !== undefined) changes.g = w.g
      if (w.n !== undefined) changes.n = w.n
      if (Object.keys(changes).length > 0) table.update(changes, { id: w.id })
    } else if (w.kind === 'updateAll') table.update({ n: w.n }, table.field('n').lt(w.n))
    else table.delete({ id: w.id })
  } catch (error) {
    if ((error as { code?: string }).code !== 'RecordNotFoundError') throw error
  }
}

/** A watched query with what its callbacks told. */
interface Watched {
  spec: QuerySpec
  query: SelectOptions<Rec>
  view: LiveView<Rec>
  first: Rec[]
  diffs: WatchDiff<Rec>[]
  calls: number
}

/** Replays diffs keyed by primary key (queries that keep it), or as multisets of contents. */
function replay(w: Watched): string[] {
  const keyed = w.spec.distinct !== true
  const show = (r: Rec) => JSON.stringify(r)
  if (keyed) {
    const byKey = new Map(w.first.map((r) => [r.id, show(r)]))
    for (const d of w.diffs) {
      for (const r of d.removed) byKey.delete(r.id)
      for (const r of [...d.added, ...d.changed]) byKey.set(r.id, show(r))
    }
    return [...byKey.values()].sort()
  }
  const rows = w.first.map(show)
  for (const d of w.diffs) {
    for (const r of d.removed) rows.splice(rows.indexOf(show(r)), 1)
    for (const r of d.added) rows.push(show(r))
  }
  return rows.sort()
}

function check(table: Table<Rec>, watched: Watched[], callsBefore: number[], rolledBack: boolean): void {
  watched.forEach((w, i) => {
    const fresh = table.select({ ...w.query, copy: false })
    expect(w.view.rows).toEqual(fresh)
    expect(w.calls - (callsBefore[i] as number)).toBeLessThanOrEqual(rolledBack ? 0 : 1)
    expect(replay(w)).toEqual(fresh.map((r) => JSON.stringify(r)).sort())
  })
}

type Mode = 'local' | 'shared, written by a second handle'

function run(indexes: boolean, mode: Mode, queries: QuerySpec[], commits: Commit[]): void {
  const db = mode === 'local' ? new Database() : new Database({ shared: true, logBytes: 1 << 20 })
  const writer = mode === 'local' ? db : Database.attach(db.handle())
  try {
    const table = db.createTable<Rec>('t', indexes ? { indexes: [{ field: 'g' }, { field: 'n', type: 'sorted' }] } : {})
    const target = writer.getTable<Rec>('t')
    const watched = queries.map((spec) => {
      const query = toQuery(table, spec)
      const w = { spec, query, first: [] as Rec[], diffs: [] as WatchDiff<Rec>[], calls: 0 } as Watched
      w.view = table.watch(query, (rows, diff) => {
        if (w.calls++ === 0) w.first = [...rows]
        else w.diffs.push(diff)
      })
      return w
    })
    for (const c of commits) {
      const before = watched.map((w) => w.calls)
      let rolledBack = false
      if (c.kind === 'single') applyWrite(target, c.write)
      else {
        rolledBack = c.rollback
        try {
          writer.transaction(() => {
            for (const w of c.writes) applyWrite(target, w)
            if (c.rollback) throw new Error('roll back')
          })
        } catch (error) {
          if ((error as Error).message !== 'roll back') throw error
        }
      }
      check(table, watched, before, rolledBack) // a read on `db`: catches a shared replica up first
    }
    for (const w of watched) w.view.close()
  } finally {
    if (writer !== db) writer.close()
    db.close()
  }
}

describe('table.watch model', () => {
  for (const mode of ['local', 'shared, written by a second handle'] as const) {
    for (const indexes of [false, true]) {
      it(`after every commit view.rows equals a fresh select and the diffs replay to it (${mode}, ${indexes ? 'indexed' : 'no index'})`, () => {
        fc.assert(
          fc.property(fc.array(queryArb, { minLength: 1, maxLength: 4 }), fc.array(commitArb, { minLength: 1, maxLength: 40 }), (queries, commits) => {
            run(indexes, mode, queries, commits)
          }),
          { numRuns: Number(process.env.FC_RUNS ?? (mode === 'local' ? 150 : 40)), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
        )
      })
    }
  }
})
