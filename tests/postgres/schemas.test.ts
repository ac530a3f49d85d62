import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidArgumentError, InvalidStateError, SchemaValidationError } from '../../src/index'
import { connect } from '../../src/postgres/index'
import { pgUrl } from './server'
import { connectedClosedAfterEach, freshName } from './support'

const person = z.object({ id: z.number().int().optional(), name: z.string().min(1), age: z.number().int().nonnegative() })

describe('Standard Schema validators across processes (connect({ schemas }))', () => {
  const open = connectedClosedAfterEach()

  /** A table created with a validator by one process, then a second process's database. */
  async function createdElsewhere(options: { schemas?: Record<string, typeof person> }) {
    const name = freshName()
    const creator = await open({ name })
    await creator.transactionAsync(() => creator.createTable('people', { schema: person }).insert({ name: 'Grace', age: 45 }))
    const other = await open({ name, ...options })
    await other.sync()
    return other
  }

  it('a process given the validator with connect({ schemas }) validates as the creator does', async () => {
    const db = await createdElsewhere({ schemas: { people: person } })
    const people = db.getTable('people')
    await expect(db.transactionAsync(() => people.insert({ name: 'Ada', age: 36 }))).resolves.toBe(2)
    await expect(db.transactionAsync(() => people.insert({ name: '', age: -1 }))).rejects.toBeInstanceOf(SchemaValidationError)
    expect(people.select().map((p) => p.name)).toEqual(['Grace', 'Ada'])
  })

  it('a process not given the validator reads the table but may not write to it, and is told to pass schemas', async () => {
    const db = await createdElsewhere({})
    const people = db.getTable('people')
    expect(people.select()).toEqual([{ id: 1, name: 'Grace', age: 45 }])
    const write = db.transactionAsync(() => people.insert({ name: 'Ada', age: 36 }))
    await expect(write).rejects.toBeInstanceOf(InvalidStateError)
    await expect(write).rejects.toThrow(/connect\(\{ url, schemas: \{ people: validator \} \}\)/)
    expect(people.count()).toBe(1)
  })

  it('a process that joins from a snapshot validates with the validator it was given', async () => {
    const name = freshName()
    const creator = await open({ name, snapshotEvery: 1 })
    await creator.transactionAsync(() => creator.createTable('people', { schema: person }))
    await creator.sync() // after the snapshot its commit took
    const joiner = await open({ name, schemas: { people: person } })
    await expect(joiner.transactionAsync(() => joiner.getTable('people').insert({ name: 'Ada', age: -1 }))).rejects.toBeInstanceOf(SchemaValidationError)
    expect(joiner.getTable('people').count()).toBe(0)
  })

  it.each([
    ['not an object', 3],
    ['a type-string schema', { people: { name: 'string' } }],
  ])('connect() refuses schemas that is %s with InvalidArgumentError', async (_, schemas) => {
    await expect(connect({ url: pgUrl(), name: freshName(), schemas: schemas as never })).rejects.toBeInstanceOf(InvalidArgumentError)
  })
})
