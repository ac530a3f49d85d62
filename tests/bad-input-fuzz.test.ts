import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Condition, DictDBError, and, count, increment, not, sum } from '../src/index'
import { world, type World } from './support/bad-input-world'
import { expectDictDBError, snapshot } from './support/helpers'

// Fuzz: any value, in any argument position of a public call, gets a DictDBError or a result —
// never another exception — and a call that throws leaves the database exactly as it was.

/** Values a careless or hostile caller can pass, beyond what fast-check's `anything` makes. */
function evilValues(): fc.Arbitrary<Box> {
  const nullProto = (entries: Array<[string, unknown]>) => Object.assign(Object.create(null) as object, Object.fromEntries(entries))
  const throwingGetter = () => Object.defineProperty({}, 'age', { enumerable: true, get: () => { throw new Error('getter says no') } })
  const throwingProxy = () =>
    new Proxy({}, { get: () => { throw new Error('proxy get') }, ownKeys: () => { throw new Error('proxy ownKeys') }, getPrototypeOf: () => { throw new Error('proxy proto') } })
  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return proxy
  }
  const cyclic = () => {
    const o: Record<string, unknown> = { a: 1 }
    o.self = o
    return o
  }
  const made = (label: string, make: () => unknown) => fc.constant(null).map(() => new Box(label, make()))
  return fc.oneof(
    fc.oneof(
      fc.anything({ withBigInt: true, withNullPrototype: true, withDate: true, withMap: true, withSet: true, withSparseArray: true, withBoxedValues: true, withTypedArray: true, withObjectString: true }),
      fc.constantFrom<unknown>(Symbol('s'), Symbol.for('dictdb'), 10n ** 30n, -0, NaN, Infinity, () => 1, async () => 1, new Date(NaN), '__proto__', 'constructor'),
    ).map((v) => new Box(fc.stringify(v), v)),
    fc.string().map((s) => new Box(`null-prototype { age: 1n, ${JSON.stringify(s)}: Symbol() }`, nullProto([['age', 1n], [s, Symbol('v')]]))),
    made('null-prototype { $gt: 1n }', () => nullProto([['$gt', 1n]])),
    made('a string of 1M characters', () => 'x'.repeat(1_000_000)),
    made('an object whose getter throws', throwingGetter),
    made('a proxy whose traps throw', throwingProxy),
    made('a revoked proxy', revoked),
    made('a cyclic object', cyclic),
    made('a transparent proxy of { a: 1 }', () => new Proxy({ a: 1 }, {})),
  )
}

/** Holds a value away from fast-check, which would itself trip over a revoked proxy. */
class Box {
  constructor(
    readonly label: string,
    readonly value: unknown,
  ) {}
  [fc.toStringMethod](): string {
    return this.label
  }
}

type Call = readonly [name: string, call: (w: World, v: any) => unknown]

const FUZZED_CALLS: Call[] = [
  ['table.field(v)', ({ users }, v) => users.field(v)],
  ['typed.field(v)', ({ typed }, v) => typed.field(v)],
  ['insert(v)', ({ users }, v) => users.insert(v)],
  ['insert([v])', ({ users }, v) => users.insert([v])],
  ['insert({ name: v })', ({ users }, v) => users.insert({ name: v })],
  ['insert([{}], v)', ({ users }, v) => users.insert([{}], v)],
  ['typed.insert(v)', ({ typed }, v) => typed.insert(v)],
  ['upsert(v)', ({ users }, v) => users.upsert(v)],
  ['upsert({ id: 1 }, v)', ({ users }, v) => users.upsert({ id: 1 }, v)],
  ['get(v)', ({ users }, v) => users.get(v)],
  ['select(v)', ({ users }, v) => users.select(v)],
  ['select({ where: v })', ({ users }, v) => users.select({ where: v })],
  ['select({ where: { age: v } })', ({ users }, v) => users.select({ where: { age: v } })],
  ['typed.select({ where: v })', ({ typed }, v) => typed.select({ where: v })],
  ['select({ orderBy: v })', ({ users }, v) => users.select({ orderBy: v })],
  ['select({ columns: v })', ({ users }, v) => users.select({ columns: v })],
  ['typed.select({ columns: v, orderBy: v })', ({ typed }, v) => typed.select({ columns: v, orderBy: v })],
  ['select({ limit: v, offset: v })', ({ users }, v) => users.select({ limit: v, offset: v })],
  ['update(v)', ({ users }, v) => users.update(v)],
  ['update({ age: v })', ({ users }, v) => users.update({ age: v })],
  ['update({ age: 1 }, v)', ({ users }, v) => users.update({ age: 1 }, v)],
  ['delete(v)', ({ users }, v) => users.delete(v)],
  ['getOrCreate(v)', ({ users }, v) => users.getOrCreate(v)],
  ['getOrCreate({ name: "Zed" }, v)', ({ users }, v) => users.getOrCreate({ name: 'Zed' }, v)],
  ['count(v)', ({ users }, v) => users.count(v)],
  ['explain(v)', ({ users }, v) => users.explain(v)],
  ['field("age").eq(v)', ({ users }, v) => users.field('age').eq(v)],
  ['field("age").isIn(v)', ({ users }, v) => users.field('age').isIn(v)],
  ['field("age").between(v, v)', ({ users }, v) => users.field('age').between(v, v)],
  ['field("name").like(v)', ({ users }, v) => users.field('name').like(v)],
  ['field("tags").contains(v)', ({ users }, v) => users.field('tags').contains(v)],
  ['and(v)', (_, v) => and(v)],
  ['not(v)', (_, v) => not(v)],
  ['Condition.from(v)', (_, v) => Condition.from(v)],
  ['aggregate(v)', ({ users }, v) => users.aggregate(v)],
  ['aggregate({ n: v })', ({ users }, v) => users.aggregate({ n: v })],
  ['aggregate({ n: count() }, v)', ({ users }, v) => users.aggregate({ n: count() }, v)],
  ['sum(v)', (_, v) => sum(v)],
  ['increment(v)', (_, v) => increment(v)],
  ['createIndex(v)', ({ users }, v) => users.createIndex(v)],
  ['createIndex("name", v)', ({ users }, v) => users.createIndex('name', v)],
  ['dropIndex(v)', ({ users }, v) => users.dropIndex(v)],
  ['hasIndex(v)', ({ users }, v) => users.hasIndex(v)],
  ['db.createTable(v)', ({ db }, v) => db.createTable(v)],
  ['db.createTable("t", v)', ({ db }, v) => db.createTable('t', v)],
  ['db.getTable(v)', ({ db }, v) => db.getTable(v)],
  ['db.hasTable(v)', ({ db }, v) => db.hasTable(v)],
  ['db.dropTable(v)', ({ db }, v) => db.dropTable(v)],
  ['db.transaction(v)', ({ db }, v) => db.transaction(v)],
  ['db.transaction(fn, v)', ({ db }, v) => db.transaction(() => 1, v)],
  ['db.sequence(v)', ({ db }, v) => db.sequence(v)],
  ['db.sequence("s", v)', ({ db }, v) => db.sequence('s', v)],
  ['db.counter(v)', ({ db }, v) => db.counter(v)],
  ['db.ledger(v)', ({ db }, v) => db.ledger(v)],
  ['db.onCommit(v)', ({ db }, v) => db.onCommit(v)],
  ['lock.readSync(fn, v)', ({ users }, v) => users.lock.readSync(() => 1, v)],
  ['watch(v, callback)', ({ users }, v) => users.watch(v, () => {}).close()],
  ['watch({ where: v }, callback)', ({ users }, v) => users.watch({ where: v }, () => {}).close()],
  ['watch({}, v)', ({ users }, v) => users.watch({}, v).close()],
  ['db.changes(v)', ({ db }, v) => db.changes(v)],
  ['db.createTable("t", { ttl: v })', ({ db }, v) => db.createTable('t', { ttl: v })],
  ['db.counter("hits").add(v)', ({ db }, v) => db.counter('hits').add(v)],
  ['ledger.openAccount(v)', ({ ledger }, v) => ledger.openAccount(v)],
  ['ledger.deposit("ann", v)', ({ ledger }, v) => ledger.deposit('ann', v)],
  ['ledger.deposit("ann", 1, v)', ({ ledger }, v) => ledger.deposit('ann', 1, v)],
  ['ledger.transfer("ann", v, 1)', ({ ledger }, v) => ledger.transfer('ann', v, 1)],
  ['ledger.hold("ann", v)', ({ ledger }, v) => ledger.hold('ann', v)],
  ['ledger.release(v, { to: "ann" })', ({ ledger }, v) => ledger.release(v, { to: 'ann' })],
  ['ledger.release("order-1", v)', ({ ledger }, v) => ledger.release('order-1', v)],
  ['ledger.refund(v)', ({ ledger }, v) => ledger.refund(v)],
  ['ledger.balance(v)', ({ ledger }, v) => ledger.balance(v)],
  ['ledger.escrows(v)', ({ ledger }, v) => ledger.escrows(v)],
]

describe('fuzz: any value in any argument gets a DictDBError (or a result), never another exception', () => {
  it.each(FUZZED_CALLS)('%s', (_, call) => {
    fc.assert(
      fc.property(evilValues(), ({ value }) => {
        const w = world()
        const before = snapshot(w.db)
        let error: unknown
        try {
          call(w, value)
        } catch (e) {
          error = e
        }
        if (error === undefined) return
        if (!(error instanceof DictDBError)) throw new Error(`threw ${String((error as Error)?.name)}: ${String((error as Error)?.message)}`)
        // The message itself must be readable: a string of bounded size.
        expect(typeof error.message).toBe('string')
        expect(error.message.length).toBeLessThan(2_000)
        expect(snapshot(w.db)).toEqual(before)
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 60) },
    )
  })
})

describe('fuzz findings', () => {
  it('insert of a sparse list refuses the hole instead of crashing', () => {
    const w = world()
    const before = snapshot(w.db)
    // eslint-disable-next-line no-sparse-arrays
    expectDictDBError(() => w.users.insert([{ name: 'x' }, , { name: 'y' }] as never), 'InvalidArgumentError', /plain object/, /undefined/)
    expect(snapshot(w.db)).toEqual(before)
  })

  it('a null-prototype object holding a bigint is described, not a TypeError (t.field(x))', () => {
    const x = Object.assign(Object.create(null) as object, { a: 1n })
    expectDictDBError(() => world().users.field(x as never), 'InvalidArgumentError', /field name/, /\{"a":1n\}/)
  })
})
