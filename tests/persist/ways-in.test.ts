import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BackupManager, Database } from '../../src/index'
import { crc32 } from '../../src/persist/checksum'
import { everyWayIn, expectAgreement, savedBytes, withoutChecksum } from './ways-in'
import { tempDir, withoutFsync } from './support'

/** The JSON text of `db` without its checksum, edited by `edit`. */
function editedJson(db: Database, edit: (text: string) => string): Buffer {
  return Buffer.from(edit(withoutChecksum(savedBytes(db, tempDir(), 'json').toString('utf8'))))
}

function twoUsers(): Database {
  const db = new Database()
  db.createTable('users').insert([{ name: 'Ada' }, { name: 'Alan' }])
  return db
}

describe('every way in', () => {
  it('refuses a record without its primary key in load, loadAsync, restore and the CLI alike', async () => {
    const bytes = editedJson(twoUsers(), (text) => text.replace('{"id":2,', '{'))
    const outcome = expectAgreement(await everyWayIn(tempDir(), bytes), 'missing key')
    expect(outcome).toMatchObject({ error: 'CorruptFileError', message: expect.stringMatching(/records of `users`.*primary key `id`/) })
  })

  it('refuses a file missing a record line, by the count in its header', async () => {
    const bytes = editedJson(twoUsers(), (text) => text.replace('{"id":1,"name":"Ada"},\n', ''))
    const outcome = expectAgreement(await everyWayIn(tempDir(), bytes), 'dropped line')
    expect(outcome).toMatchObject({ error: 'CorruptFileError', message: expect.stringMatching(/counts 2 records of `users`, the file holds 1/) })
  })

  it('loads a hand-edited file without its checksum the same way everywhere', async () => {
    const bytes = editedJson(twoUsers(), (text) => text.replace('"Alan"', '"Alan Turing"'))
    const outcome = expectAgreement(await everyWayIn(tempDir(), bytes), 'edited value')
    expect(outcome).toHaveProperty('db', expect.stringContaining('Alan Turing'))
  })

  it('stores the fields of a hand-edited file in canonical order, at every depth, whichever way it comes in', async () => {
    const db = new Database()
    db.createTable('users').insert({ name: 'Ada', tags: { b: 1, a: 2 } })
    const bytes = editedJson(db, (text) => text.replace('{"id":1,"name":"Ada","tags":{"a":2,"b":1}}', '{"tags":{"b":1,"a":2},"name":"Ada","id":1}'))
    expect(bytes.toString()).toContain('"name":"Ada","id":1')
    const outcome = expectAgreement(await everyWayIn(tempDir(), bytes), 'fields out of order')
    expect(outcome).toHaveProperty('db', expect.stringContaining('{"id":1,"name":"Ada","tags":{"a":2,"b":1}}'))
  })

  it('stores the fields of the records of a delta in canonical order when a restore replays it', async () => {
    const dir = tempDir()
    const db = new Database()
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    db.createTable('t').insert({ v: 1, w: { d: 1, c: 2 } })
    const { file } = (await backups.backupNow()) as { file: string }
    writeFileSync(file, withoutChecksum(readFileSync(file, 'utf8')).replace('{"id":1,"v":1,"w":{"c":2,"d":1}}', '{"w":{"d":1,"c":2},"v":1,"id":1}'))
    const record = BackupManager.restore(dir).getTable('t').get(1) as Record<string, Record<string, unknown>>
    expect([Object.keys(record), Object.keys(record.w as object)]).toEqual([['id', 'v', 'w'], ['c', 'd']])
  })

  it('keeps the key counter a restore derives from replayed puts, as a table does', async () => {
    const dir = tempDir()
    const db = new Database()
    const t = db.createTable('t')
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    t.insert([{ v: 1 }, { v: 2 }, { id: 10, v: 3 }])
    t.delete({ id: 10 })
    await backups.backupNow()
    const restored = BackupManager.restore(dir)
    expect(restored.getTable('t').insert({ v: 4 })).toBe(11)
  })

  it('refuses a delta missing an op line, by the count in its header', async () => {
    const dir = tempDir()
    const db = new Database()
    const t = db.createTable('t')
    const backups = new BackupManager(db, dir, { incremental: true })
    await backups.backupNow()
    t.insert([{ v: 1 }, { v: 2 }])
    const { file } = (await backups.backupNow()) as { file: string }
    const lines = withoutChecksum(readFileSync(file, 'utf8')).split('\n')
    const text = lines.filter((line) => !line.includes('"key":1,')).join('\n')
    writeFileSync(file, text)
    const report = BackupManager.restoreWithReport(dir, { logger: { warn() {}, error() {} } })
    expect(report.applied).toEqual([])
    expect(report.lost[0]?.reason).toMatch(/counts 2 ops, the file holds 1/)
  })
})

// ------------------------------------------------------------------ the property

const value = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 6 }),
  fc.boolean(),
  fc.constant(null),
  fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('x', 'y', '$z'), fc.integer({ min: 0, max: 9 }), { maxKeys: 2 }),
)
const record = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'mail', 'n'), value, { maxKeys: 4 })
const tableSpec = fc.record({
  keyed: fc.boolean(),
  uniqueMail: fc.boolean(),
  records: fc.array(record, { maxLength: 8 }),
  deleted: fc.nat({ max: 3 }),
})

/** A random database: a few tables, auto or string keys, maybe a unique index, some deletes. */
function randomDatabase(specs: readonly { keyed: boolean; uniqueMail: boolean; records: Record<string, unknown>[]; deleted: number }[]): Database {
  const db = new Database()
  specs.forEach((spec, i) => {
    const options = spec.keyed ? { primaryKey: 'code' } : {}
    const table = db.createTable(`t${i}`, spec.uniqueMail ? { ...options, indexes: [{ field: 'mail', unique: true }] } : options)
    spec.records.forEach((rec, j) => {
      try {
        table.insert(spec.keyed ? { ...rec, code: `k${j}` } : rec)
      } catch {
        // A repeated unique value: that record is simply not in the database.
      }
    })
    const keys = table.select({ limit: spec.deleted }).map((r) => r[table.primaryKey] as string | number)
    for (const key of keys) table.delete({ [table.primaryKey]: key })
  })
  return db
}

type Damage =
  | { kind: 'dropLine'; at: number }
  | { kind: 'changeValue'; at: number; to: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'swapLines'; a: number; b: number }
  | { kind: 'dropField'; at: number }
  | { kind: 'none' }

const damage: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ kind: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('changeValue' as const), at: fc.nat(), to: fc.constantFrom('0', '9', '"', 'x', '{', ',', '-', 'null') }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('dropField' as const), at: fc.nat() }),
  fc.constant({ kind: 'none' as const }),
)

/** Damages the lines of a JSON file. */
function damageJson(text: string, d: Damage): string {
  const lines = text.split('\n')
  const pick = (n: number) => n % Math.max(1, lines.length - 1)
  switch (d.kind) {
    case 'dropLine':
      lines.splice(pick(d.at), 1)
      return lines.join('\n')
    case 'changeValue': {
      const i = d.at % text.length
      return text.slice(0, i) + d.to + text.slice(i + 1)
    }
    case 'truncate':
      return text.slice(0, d.at % text.length)
    case 'swapLines': {
      const a = pick(d.a)
      const b = pick(d.b)
      ;[lines[a], lines[b]] = [lines[b] as string, lines[a] as string]
      return lines.join('\n')
    }
    case 'dropField': {
      // A line's first field gone (a record's primary key comes first in it, or close).
      const i = pick(d.at)
      lines[i] = (lines[i] as string).replace(/^\{"[^"]*":[^,{[]*,/, '{')
      return lines.join('\n')
    }
    case 'none':
      return text
  }
}

/** The frames of a binary file (after its 16-byte header): type and payload. */
function frames(bytes: Buffer): { type: number; payload: Buffer }[] {
  const out = []
  for (let at = 16; at + 5 <= bytes.length; ) {
    const length = bytes.readUInt32BE(at + 1)
    out.push({ type: bytes[at] as number, payload: bytes.subarray(at + 5, at + 5 + length) })
    at += 9 + length
  }
  return out
}

/** Re-frames a binary file with valid frame checksums: the damage is then only in the content. */
function reframe(head: Buffer, list: readonly { type: number; payload: Buffer }[]): Buffer {
  return Buffer.concat([
    head.subarray(0, 16),
    ...list.map(({ type, payload }) => {
      const out = Buffer.alloc(9 + payload.length)
      out[0] = type
      out.writeUInt32BE(payload.length, 1)
      payload.copy(out, 5)
      out.writeUInt32BE(crc32(out.subarray(0, 5 + payload.length)), 5 + payload.length)
      return out
    }),
  ])
}

/** Damages a binary file: its bytes (frame checksums catch it) or, `resum`, its frames with valid checksums. */
function damageBinary(bytes: Buffer, d: Damage, resum: boolean): Buffer {
  if (!resum) {
    if (d.kind === 'truncate') return bytes.subarray(0, d.at % bytes.length)
    if (d.kind === 'none' || d.kind === 'dropField') return bytes
    const out = Buffer.from(bytes)
    const i = (d.kind === 'swapLines' ? d.a : d.at) % out.length
    out[i] = (out[i] as number) ^ 0x5a
    return out
  }
  const list = frames(bytes)
  const pick = (n: number) => n % list.length
  switch (d.kind) {
    case 'dropLine':
      list.splice(pick(d.at), 1)
      break
    case 'swapLines': {
      const a = pick(d.a)
      const b = pick(d.b)
      ;[list[a], list[b]] = [list[b]!, list[a]!]
      break
    }
    case 'changeValue': {
      const f = list[pick(d.at)]!
      const payload = Buffer.from(f.payload)
      if (payload.length > 0) payload[d.at % payload.length] = d.to.charCodeAt(0)
      list[pick(d.at)] = { type: f.type, payload }
      break
    }
    case 'truncate':
      list.length = pick(d.at)
      break
    case 'dropField':
    case 'none':
      break
  }
  return reframe(bytes, list)
}

describe('every way in, property', () => {
  withoutFsync()

  it('gives the same database or the same CorruptFileError for any damage to a JSON file, with or without its checksum', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tableSpec, { minLength: 1, maxLength: 3 }), damage, fc.boolean(), async (specs, d, keepChecksum) => {
        const dir = tempDir()
        const text = savedBytes(randomDatabase(specs), dir, 'json').toString('utf8')
        const damaged = damageJson(keepChecksum ? text : withoutChecksum(text), d)
        const first = expectAgreement(await everyWayIn(dir, Buffer.from(damaged)), JSON.stringify(d))
        if (keepChecksum && d.kind !== 'none' && damaged !== text && 'db' in first) {
          // With the checksum kept, damage that loads must have changed nothing that matters.
          expect(first).toEqual((await everyWayIn(tempDir(), Buffer.from(text))).load)
        }
      }),
      { numRuns: 80 },
    )
  })

  it('gives the same database or the same CorruptFileError for any damage to a binary file, bytes or re-checksummed frames', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(tableSpec, { minLength: 1, maxLength: 3 }), damage, fc.boolean(), async (specs, d, resum) => {
        const dir = tempDir()
        const bytes = savedBytes(randomDatabase(specs), dir, 'binary')
        expectAgreement(await everyWayIn(dir, damageBinary(bytes, d, resum)), `${JSON.stringify(d)} resum=${resum}`)
      }),
      { numRuns: 80 },
    )
  })

})
