import { describe, expect, it } from 'vitest'
import { Database, InvalidArgumentError, type Table } from '../../src/index'
import { DATABASE_KINDS, INDEX_KINDS, databasesClosedAfterEach, expectDictDBError, ids, indexFields, thrown } from '../support/helpers'

const STAFF = [
  { id: 1, name: 'Ada', dept: 'IT', age: 36 },
  { id: 2, name: 'Bob', dept: 'HR', age: 25 },
  { id: 3, name: 'Cy', dept: 'IT', age: 25 },
  { id: 4, name: 'Di', dept: 'HR', age: null },
  { id: 5, name: 'Ed', dept: 'IT' },
  { id: 6, name: 'Flo', dept: 'Ops', age: 41 },
]

const open = databasesClosedAfterEach()

describe.each(DATABASE_KINDS)('select on a %s database', (dbKind) => {
  describe.each(INDEX_KINDS)('with %s index on the queried fields', (kind) => {
    function setup(): { db: Database; t: Table } {
      const db = open(dbKind)
      const t = db.createTable('staff')
      indexFields(t, kind, ['dept', 'age'])
      t.insert(STAFF)
      return { db, t }
    }

    describe.each([true, false])('copy: %s', (copy) => {
      it('without orderBy, rows come in insertion order', () => {
        const { t } = setup()
        expect(ids(t.select({ copy }))).toEqual([1, 2, 3, 4, 5, 6])
        expect(ids(t.select({ where: { dept: 'IT' }, copy }))).toEqual([1, 3, 5])
        expect(ids(t.select({ where: t.field('age').gte(25), copy }))).toEqual([1, 2, 3, 6])
      })

      it('an update keeps the record in its insertion place', () => {
        const { t } = setup()
        t.update({ age: 99, dept: 'IT' }, { id: 2 })
        expect(ids(t.select({ copy }))).toEqual([1, 2, 3, 4, 5, 6])
        expect(ids(t.select({ where: { dept: 'IT' }, copy }))).toEqual([1, 2, 3, 5])
      })

      it('after a rolled-back delete, the record is back in its original place', () => {
        const { db, t } = setup()
        expect(() =>
          db.transaction(() => {
            t.delete({ id: 3 })
            t.delete({ id: 1 })
            throw new Error('abort')
          }),
        ).toThrow('abort')
        expect(ids(t.select({ copy }))).toEqual([1, 2, 3, 4, 5, 6])
        expect(ids(t.select({ where: { dept: 'IT' }, copy }))).toEqual([1, 3, 5])
        expect(ids(t.select({ where: t.field('age').eq(25), copy }))).toEqual([2, 3])
      })

      it("orderBy 'age' sorts ascending with null and missing first, ties in insertion order", () => {
        const { t } = setup()
        expect(ids(t.select({ orderBy: 'age', copy }))).toEqual([4, 5, 2, 3, 1, 6])
      })

      it("orderBy '-age' sorts descending with null and missing last, ties in insertion order", () => {
        const { t } = setup()
        expect(ids(t.select({ orderBy: '-age', copy }))).toEqual([6, 1, 2, 3, 4, 5])
      })

      it('orderBy a list sorts by each field in turn', () => {
        const { t } = setup()
        expect(ids(t.select({ orderBy: ['dept', '-age'], copy }))).toEqual([2, 4, 1, 3, 5, 6])
        expect(ids(t.select({ orderBy: ['-dept', 'age'], copy }))).toEqual([6, 5, 3, 1, 4, 2])
      })

      it('orderBy applies to the rows matching where', () => {
        const { t } = setup()
        expect(ids(t.select({ where: { dept: 'IT' }, orderBy: '-age', copy }))).toEqual([1, 3, 5])
      })

      it('limit and offset page after sorting', () => {
        const { t } = setup()
        expect(ids(t.select({ orderBy: '-age', limit: 2, copy }))).toEqual([6, 1])
        expect(ids(t.select({ orderBy: '-age', offset: 2, limit: 2, copy }))).toEqual([2, 3])
        expect(ids(t.select({ orderBy: '-age', offset: 4, copy }))).toEqual([4, 5])
        expect(ids(t.select({ orderBy: '-age', offset: 10, copy }))).toEqual([])
      })

      it('limit and offset page in insertion order without orderBy', () => {
        const { t } = setup()
        expect(ids(t.select({ where: { dept: 'IT' }, offset: 1, limit: 1, copy }))).toEqual([3])
        expect(ids(t.select({ limit: 100, copy }))).toEqual([1, 2, 3, 4, 5, 6])
      })

      it('limit 0 returns []', () => {
        const { t } = setup()
        expect(t.select({ limit: 0, copy })).toEqual([])
        expect(t.select({ limit: 0, orderBy: 'age', where: { dept: 'IT' }, copy })).toEqual([])
      })

      it('columns as a list projects the rows onto those fields', () => {
        const { t } = setup()
        expect(t.select({ where: { dept: 'HR' }, columns: ['name', 'age'], copy })).toEqual([
          { name: 'Bob', age: 25 },
          { name: 'Di', age: null },
        ])
      })

      it('columns as an alias map renames fields', () => {
        const { t } = setup()
        expect(t.select({ where: { id: 1 }, columns: { who: 'name', team: 'dept' }, copy })).toEqual([{ who: 'Ada', team: 'IT' }])
      })

      it('distinct drops duplicate result rows, keeping the first', () => {
        const { t } = setup()
        expect(t.select({ columns: ['dept'], distinct: true, copy })).toEqual([{ dept: 'IT' }, { dept: 'HR' }, { dept: 'Ops' }])
        expect(t.select({ columns: { d: 'dept' }, orderBy: 'dept', distinct: true, copy })).toEqual([{ d: 'HR' }, { d: 'IT' }, { d: 'Ops' }])
      })

      it('distinct keeps the first of the duplicates in the sorted order', () => {
        const { t } = setup()
        expect(t.select({ columns: ['dept'], orderBy: '-age', distinct: true, copy })).toEqual([{ dept: 'Ops' }, { dept: 'IT' }, { dept: 'HR' }])
        expect(t.select({ columns: ['dept', 'name'], orderBy: 'age', distinct: true, copy })).toHaveLength(6)
      })

      it('limit and offset count distinct rows', () => {
        const { t } = setup()
        expect(t.select({ columns: ['dept'], distinct: true, offset: 1, limit: 1, copy })).toEqual([{ dept: 'HR' }])
      })

      it('distinct without duplicates changes nothing', () => {
        const { t } = setup()
        expect(ids(t.select({ distinct: true, copy }))).toEqual([1, 2, 3, 4, 5, 6])
      })
    })
  })
})

describe('select: copies and frozen records', () => {
  function setup() {
    const db = new Database()
    const t = db.createTable('docs', { indexes: [{ field: 'title' }] })
    t.insert({ id: 1, title: 'a', meta: { tags: ['x'], when: new Date(1000) }, list: [{ n: 1 }] })
    return t
  }
  const STORED = { id: 1, title: 'a', meta: { tags: ['x'], when: new Date(1000) }, list: [{ n: 1 }] }

  it('select returns copies by default: changing a result (nested too) changes nothing stored', () => {
    const t = setup()
    const [row] = t.select() as any[]
    row.title = 'changed'
    row.meta.tags.push('y')
    row.meta.when.setFullYear(1999)
    row.list[0].n = 2
    delete row.id
    expect(t.select()).toEqual([STORED])
    expect(t.select({ where: { title: 'a' } })).toHaveLength(1)
  })

  it('select copies are mutable plain objects', () => {
    const t = setup()
    const [row] = t.select() as any[]
    expect(Object.isFrozen(row)).toBe(false)
    expect(Object.isFrozen(row.meta)).toBe(false)
    row.meta.when.setFullYear(1999)
    expect(row.meta.when.getFullYear()).toBe(1999)
  })

  it('select returns a new copy on every call', () => {
    const t = setup()
    expect(t.select()[0]).not.toBe(t.select()[0])
  })

  it('copy: false returns the stored records themselves, not copies', () => {
    const t = setup()
    expect(t.select({ copy: false })[0]).toBe(t.select({ copy: false })[0])
    expect(t.select({ copy: false })).toEqual([STORED])
  })

  it('copy: false records are deeply frozen', () => {
    const t = setup()
    const [row] = t.select({ copy: false }) as any[]
    expect(Object.isFrozen(row)).toBe(true)
    expect(Object.isFrozen(row.meta)).toBe(true)
    expect(Object.isFrozen(row.meta.tags)).toBe(true)
    expect(Object.isFrozen(row.list[0])).toBe(true)
  })

  it('writing a copy: false record throws and changes nothing stored or indexed', () => {
    const t = setup()
    const [row] = t.select({ copy: false }) as any[]
    expect(() => {
      row.title = 'b'
    }).toThrow(TypeError)
    expect(() => {
      row.extra = 1
    }).toThrow(TypeError)
    expect(() => {
      delete row.id
    }).toThrow(TypeError)
    expect(() => {
      row.meta.tags.push('y')
    }).toThrow(TypeError)
    expect(() => {
      row.list[0].n = 2
    }).toThrow(TypeError)
    expect(t.select()).toEqual([STORED])
    expect(ids(t.select({ where: { title: 'a' } }))).toEqual([1])
    expect(t.select({ where: { title: 'b' } })).toEqual([])
  })

  it('a Date in a copy: false record cannot be changed by its setters', () => {
    const t = setup()
    const [row] = t.select({ copy: false }) as any[]
    expect(row.meta.when).toBeInstanceOf(Date)
    expect(() => row.meta.when.setFullYear(1999)).toThrow(TypeError)
    expect(() => row.meta.when.setTime(0)).toThrow(TypeError)
    expect(row.meta.when.getTime()).toBe(1000)
    expect(t.get(1)).toEqual(STORED)
  })

  it('copy: false with columns returns read-only rows too', () => {
    const t = setup()
    const [row] = t.select({ copy: false, columns: ['meta'] }) as any[]
    expect(() => row.meta.tags.push('y')).toThrow(TypeError)
    expect(t.get(1)).toEqual(STORED)
  })

  it('all() returns copies of every record in insertion order', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert([{ id: 'b' }, { id: 'a' }])
    const all = t.all()
    expect(ids(all)).toEqual(['b', 'a'])
    ;(all[0] as any).x = 1
    expect(t.get('b')).toEqual({ id: 'b' })
  })

  it('copy() returns a Map of key to a copy of every record', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert([{ id: 'b', v: { n: 1 } }, { id: 'a' }])
    const map = t.copy()
    expect([...map.keys()]).toEqual(['b', 'a'])
    ;(map.get('b') as any).v.n = 2
    expect(t.get('b')).toEqual({ id: 'b', v: { n: 1 } })
  })

  it('count() counts all records, count(where) the matching ones', () => {
    const db = new Database()
    const t = db.createTable('t')
    t.insert([{ a: 1 }, { a: 2 }, { a: 2 }])
    expect(t.count()).toBe(3)
    expect(t.count({ a: 2 })).toBe(2)
    expect(t.count(t.field('a').gt(5))).toBe(0)
  })
})

describe('select: bad paging options', () => {
  const t = new Database().createTable('t')
  t.insert({ a: 1 })

  it.each([-1, 1.5, NaN, Infinity, '2', null])('limit %s is an error naming the value', (limit) => {
    const error = thrown(() => t.select({ limit: limit as number }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).toMatch(/`limit`.*non-negative integer/)
  })

  it.each([-1, 0.5, '1'])('offset %s is an error naming the value', (offset) => {
    expectDictDBError(() => t.select({ offset: offset as number }), 'InvalidArgumentError', /`offset`.*non-negative integer/, new RegExp(String(offset).replace('.', '\\.')))
  })
})
