import * as real from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Database } from '../../src/index'
import { BinaryReader, encodeBinary } from '../../src/persist/binary-format'
import type { DocumentSink } from '../../src/persist/document'
import { replaceFileSystem } from '../../src/persist/fs'
import { encodeJson } from '../../src/persist/json-format'
import { JsonReader } from '../../src/persist/json-reader'
import { snapshot } from '../support/helpers'
import { FORMATS, tempDir, withLimits } from './support'

function bigDatabase(n: number): Database {
  const db = new Database()
  const t = db.createTable('rows', { indexes: [{ field: 'group' }] })
  t.insert(Array.from({ length: n }, (_, i) => ({ name: `row ${i} ${'x'.repeat(i % 40)}`, group: i % 7, at: new Date(i * 1000), n: BigInt(i) * 10n ** 20n })))
  db.createTable('other').insert({ v: 1 })
  return db
}

/** The byte length of every write call made while running `fn`. */
async function writeSizes(fn: () => unknown): Promise<number[]> {
  const sizes: number[] = []
  const restore = replaceFileSystem({
    writeSync: (fd, buf, off, len, pos) => (sizes.push(len), real.writeSync(fd, buf, off, len, pos)),
    write: async (fd, buf, off, len, pos) => (sizes.push(len), real.writeSync(fd, buf, off, len, pos)),
  })
  try {
    await fn()
  } finally {
    restore()
  }
  return sizes
}

const collect = (): DocumentSink & { chunks: number[] } => {
  const chunks: number[] = []
  return { chunks, header() {}, section() {}, items: (items) => void chunks.push(items.length), end() {} }
}

describe.each(FORMATS)('%s files are written and read in chunks', (format) => {
  it('no write is larger than a chunk, whatever the size of the database', async () => {
    withLimits({ itemsPerChunk: 16, bytesPerChunk: 1024 })
    const db = bigDatabase(2000)
    const file = join(tempDir(), 'db')
    for (const save of [() => db.save(file, { format }), () => db.saveAsync(file, { format })]) {
      const sizes = await writeSizes(save)
      expect(sizes.length).toBeGreaterThan(100)
      // A chunk closes once it passes the limit, so it can exceed it by one item at most.
      expect(Math.max(...sizes)).toBeLessThan(2048)
      expect(snapshot(Database.load(file))).toEqual(snapshot(db))
    }
  })

  it('reads a file block by block, handing out records a chunk at a time', () => {
    withLimits({ itemsPerChunk: 10 })
    const db = bigDatabase(500)
    const state = db.exportState()
    const sections = state.tables.map((t) => ({ name: t.definition.name, items: t.records }))
    const bytes = Buffer.concat([...(format === 'json' ? encodeJson({ kind: 'database' }, sections) : encodeBinary({ kind: 'database' }, sections))])
    for (const block of [1, 7, 100, 4096]) {
      const sink = collect()
      const reader = format === 'json' ? new JsonReader(sink, 'x') : new BinaryReader(sink, 'x', bytes.length)
      for (let i = 0; i < bytes.length; i += block) reader.push(bytes.subarray(i, i + block))
      reader.finish()
      expect(sink.chunks.reduce((a, b) => a + b, 0)).toBe(501)
      expect(Math.max(...sink.chunks)).toBeLessThanOrEqual(10)
    }
  })

  it('loads with tiny read blocks, sync and async', async () => {
    withLimits({ itemsPerChunk: 8, readBytes: 37 })
    const db = bigDatabase(300)
    const file = join(tempDir(), 'db')
    db.save(file, { format })
    expect(snapshot(Database.load(file))).toEqual(snapshot(db))
    expect(snapshot(await Database.loadAsync(file))).toEqual(snapshot(db))
  })
})

describe('JSON files with text beyond ASCII', () => {
  it('load intact when blocks of ASCII and blocks of multi-byte characters alternate, whatever the block size', async () => {
    const db = new Database()
    db.createTable('t').insert(Array.from({ length: 200 }, (_, i) => ({ text: i % 3 === 0 ? `Zürich ✓ 😀 ${'é'.repeat(i % 7)}` : `plain ${i}` })))
    const file = join(tempDir(), 'db')
    db.save(file)
    for (const readBytes of [5, 64, 1000]) {
      withLimits({ readBytes })
      expect(snapshot(Database.load(file))).toEqual(snapshot(db))
      expect(snapshot(await Database.loadAsync(file))).toEqual(snapshot(db))
    }
  })
})

describe('saveAsync and loadAsync', () => {
  it('let other work run between chunks', async () => {
    withLimits({ itemsPerChunk: 50, readBytes: 4096 })
    const db = bigDatabase(3000)
    const file = join(tempDir(), 'db.json')
    let ticks = 0
    const timer = setInterval(() => ticks++, 0)
    try {
      await db.saveAsync(file)
      const afterSave = ticks
      expect(afterSave).toBeGreaterThan(2)
      await Database.loadAsync(file)
      expect(ticks - afterSave).toBeGreaterThan(2)
    } finally {
      clearInterval(timer)
    }
  })

  it('waits for an async writer holding a table lock, and saves what it committed', async () => {
    const db = new Database()
    const t = db.createTable('t')
    const file = join(tempDir(), 'db.json')
    let release!: () => void
    const held = t.lock.write(async () => {
      t.insert({ v: 1 })
      await new Promise<void>((r) => (release = r))
      t.insert({ v: 2 })
    })
    await new Promise((r) => setImmediate(r))
    expect(() => db.save(file)).toThrow(/lock/i)
    const saving = db.saveAsync(file)
    release()
    await held
    await saving
    expect(Database.load(file).getTable('t').count()).toBe(2)
  })
})
