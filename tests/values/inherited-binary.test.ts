import { describe, expect, it } from 'vitest'
import { SRC, runModule } from '../support/child'

const BINARY = new URL('../../src/values/binary.ts', import.meta.url).href

// The binary codec finds a record's shape by walking its keys with for…in (hasFields in
// values/own-field.ts), which also lists an enumerable property a library put on
// Object.prototype. Each test runs in a child process, the prototype polluted only there. The
// binary save (msgpackr, persist/binary-format.ts) does not use this codec; its test guards it.

describe('the binary codec and an enumerable property on Object.prototype (set by some library of the application)', () => {
  it('a binary save writes a record without the field as it is, after a record that has it', () => {
    const out = runModule(`
      const { mkdtempSync, rmSync } = await import('node:fs')
      const { tmpdir } = await import('node:os')
      const { join } = await import('node:path')
      const { Database } = await import(${JSON.stringify(SRC)})
      const dir = mkdtempSync(join(tmpdir(), 'dictdb-inherited-'))
      try {
        const db = new Database()
        db.createTable('t').insert([{ id: 1, tag: 'a' }, { id: 2 }])
        Object.prototype.tag = 'x'
        try { db.save(join(dir, 'db.bin'), { format: 'binary' }) } finally { delete Object.prototype.tag }
        console.log(JSON.stringify(Database.load(join(dir, 'db.bin')).getTable('t').all()))
      } finally { rmSync(dir, { recursive: true, force: true }) }`)
    expect(out).toBe('[{"id":1,"tag":"a"},{"id":2}]')
  })

  it("a shared database's update that gives a record the inherited field's value reaches a replica", () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      const db = new Database({ shared: true })
      const t = db.createTable('t')
      t.insert([{ id: 1, tag: 'a' }, { id: 2 }])
      const other = Database.attach(db.handle())
      Object.prototype.tag = 'x'
      let found
      try {
        t.update({ tag: 'x' }, { id: 2 })
        found = other.getTable('t').get(2)
      } finally { delete Object.prototype.tag }
      console.log(JSON.stringify(found))
      other.close()
      db.close()`)
    expect(out).toBe('{"id":2,"tag":"x"}')
  })

  it('a replica attached while the prototype is polluted loads records without the field as they are', () => {
    const out = runModule(`
      const { Database } = await import(${JSON.stringify(SRC)})
      Object.prototype.tag = 'x'
      let db, other
      try {
        db = new Database({ shared: true })
        db.createTable('t').insert([{ id: 1, tag: 'a' }, { id: 2 }])
        other = Database.attach(db.handle())
      } finally { delete Object.prototype.tag }
      console.log(JSON.stringify(other.getTable('t').all()))
      other.close()
      db.close()`)
    expect(out).toBe('[{"id":1,"tag":"a"},{"id":2}]')
  })

  it('the binary value writer writes an object without the field as it is, after an object that has it', () => {
    const out = runModule(`
      const { BinaryReader, BinaryWriter } = await import(${JSON.stringify(BINARY)})
      const w = new BinaryWriter(64)
      Object.prototype.tag = 'x'
      try { w.value([{ id: 1, tag: 'a' }, { id: 2 }]) } finally { delete Object.prototype.tag }
      console.log(JSON.stringify(new BinaryReader(w.bytes.subarray(0, w.length)).value()))`)
    expect(out).toBe('[{"id":1,"tag":"a"},{"id":2}]')
  })
})
