import { describe, expect, it } from 'vitest'
import { runModule } from '../support/child'

/** The codec of a connected database's snapshot (decodeState: a process that joins loads it). */
const CODEC = new URL('../../src/shared/codec.ts', import.meta.url).href

describe('a replica rebuilt from a snapshot, with an enumerable property on Object.prototype (set by some library of the application)', () => {
  it('holds each record\'s own fields only, nested objects included', () => {
    const out = runModule(`
      const { decodeState, encodeState } = await import(${JSON.stringify(CODEC)})
      const definition = { name: 't', primaryKey: 'id', indexes: [] }
      const records = [{ id: 1, name: 'a', meta: { tags: ['x'], at: new Date(0) } }]
      const bytes = encodeState({ tables: [{ definition, nextAutoKey: 2, records }] })
      Object.prototype.extra = 1
      const state = decodeState(bytes)
      delete Object.prototype.extra
      const rec = state.tables[0].records[0]
      console.log(JSON.stringify([Object.keys(rec), Object.keys(rec.meta), rec.meta.at instanceof Date, Object.isFrozen(rec.meta)]))`)
    expect(out).toBe('[["id","name","meta"],["tags","at"],true,true]')
  })
})
