// Rings of 2 GiB and more, up to the documented maximum of 4 GiB (`logBytes`): ring sizes and
// offsets past 2^31 do not fit the Int32 that bitwise operators make of them. Found by the audit
// of the shared fast paths: with `capacity >> 1` every commit of such a database was refused
// ("more than its limit of -8"). The SharedArrayBuffers are reserved, not touched: cheap.
import { afterEach, describe, expect, it } from 'vitest'
import { Database } from '../../src'
import { encodeOpsInPlace } from '../../src/shared/codec'
import { SharedLog } from '../../src/shared/log'
import { MAX_LOG_BYTES, SharedMemory } from '../../src/shared/memory'
import { expectDictDBError } from '../support/helpers'

const open: Database[] = []
afterEach(() => {
  for (const db of open.splice(0)) db.close()
})

describe('a shared log ring of 2 GiB or more', () => {
  it.each([2 ** 31, MAX_LOG_BYTES - 8, MAX_LOG_BYTES])('commits, and the other replica reads the commits (logBytes %i)', (logBytes) => {
    const db = new Database({ shared: true, logBytes })
    open.push(db)
    const t = db.createTable('t')
    t.insert({ id: 1, n: 0 })
    t.update({ n: 5 }, { id: 1 })
    const other = Database.attach(db.handle())
    open.unshift(other)
    expect(other.getTable('t').get(1)).toEqual({ id: 1, n: 5 })
  })

  it('takes an entry of half the ring, no more', () => {
    const log = new SharedLog(SharedMemory.create(MAX_LOG_BYTES))
    expect(log.maxPayload).toBe(2 ** 31 - 8)
  })

  it('reads back whole an entry written at a ring offset past 2^31', () => {
    const mem = SharedMemory.create(MAX_LOG_BYTES)
    const log = new SharedLog(mem)
    const ops = [{ type: 'record' as const, table: 't', key: 7, after: { id: 7, s: 'past 2 GiB' } }]
    const payload = encodeOpsInPlace(ops)
    const bytes = payload.bytes.slice(0, payload.length)
    for (const tail of [2 ** 31, 2 ** 31 + 8, MAX_LOG_BYTES - 1024, 5 * 2 ** 32 + 2 ** 31 + 64]) {
      mem.head = tail
      const start = log.place(tail, payload.length)
      log.write(tail, start, 0, payload)
      expect(log.read(tail, start + 8 + ((payload.length + 7) & ~7))).toBe(1)
      expect(log.bytes.slice(log.start(0), log.start(0) + log.length(0))).toEqual(bytes)
    }
  })

  it('is refused above 4 GiB with an InvalidArgumentError naming the limit', () => {
    expectDictDBError(() => new Database({ shared: true, logBytes: MAX_LOG_BYTES + 8 }), 'InvalidArgumentError', /logBytes/, /4294967296/)
  })
})
