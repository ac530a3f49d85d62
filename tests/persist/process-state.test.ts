import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from './support'
import { SRC, runModule } from '../support/child'

describe('files and an enumerable property on Object.prototype (set by some library of the application)', () => {
  it.each(['json', 'binary'])('a %s save and load (and copies of the records read) give back Dates, bigints, -0 and records as they were stored', (format) => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      Object.prototype.extra = { polluted: true }
      const file = ${JSON.stringify(join(tempDir(), `db.${format}`))}
      const db = new Database()
      db.createTable('t').insert([{ id: 1, at: new Date(5), big: 2n ** 80n, z: -0, nested: { d: new Date(7), list: [1n], $k: 1 } }, { id: 2, name: 'x' }])
      db.save(file, { format: ${JSON.stringify(format)} })
      const [one, two] = Database.load(file).getTable('t').all()
      delete Object.prototype.extra
      console.log(JSON.stringify([one.at instanceof Date && one.at.getTime() === 5, one.big === 2n ** 80n, Object.is(one.z, -0), one.nested.d instanceof Date, one.nested.list[0] === 1n, one.nested.$k === 1, Object.keys(one), Object.keys(two)]))`)
    expect(out).toBe('[true,true,true,true,true,true,["at","big","id","nested","z"],["id","name"]]')
  })
})
