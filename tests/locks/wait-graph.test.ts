// Which waiter of a deadlock cycle backs off: first attempts before re-runs (transactions that
// already lost a deadlock hold a ticket), then the youngest ticket, then the highest waiter id.
import { describe, expect, it } from 'vitest'
import { SYNC_WAIT, dropTicket, takeTicket, victimOf, waiterId } from '../../src/locks/wait-graph'
import { SharedMemory } from '../../src/shared/memory'

function threads(n: number) {
  const memory = SharedMemory.create(1 << 16)
  const slots = Array.from({ length: n }, () => memory.attachThread(0))
  const sync = (t: number) => waiterId(slots[t] as number, SYNC_WAIT)
  return { memory, slots, sync }
}

describe('the loser of a deadlock cycle', () => {
  it('among first attempts, is the waiter with the highest id', () => {
    const { memory, sync } = threads(3)
    expect(victimOf(memory, [sync(0), sync(2), sync(1)])).toBe(sync(2))
  })

  it('is a first attempt rather than a transaction that already lost a deadlock', () => {
    const { memory, slots, sync } = threads(2)
    takeTicket(memory, slots[1] as number)
    expect(victimOf(memory, [sync(0), sync(1)])).toBe(sync(0))
  })

  it('among re-runs, is the one that first lost its deadlock last', () => {
    const { memory, slots, sync } = threads(3)
    takeTicket(memory, slots[2] as number)
    takeTicket(memory, slots[0] as number)
    takeTicket(memory, slots[1] as number)
    expect(victimOf(memory, [sync(0), sync(1), sync(2)])).toBe(sync(1))
  })

  it('keeps the ticket of its first loss across re-runs', () => {
    const { memory, slots, sync } = threads(2)
    takeTicket(memory, slots[0] as number)
    takeTicket(memory, slots[1] as number)
    takeTicket(memory, slots[0] as number) // a second loss: still the older ticket
    expect(victimOf(memory, [sync(0), sync(1)])).toBe(sync(1))
  })

  it('is an async wait (never a transaction) rather than a re-run of the same thread', () => {
    const { memory, slots, sync } = threads(2)
    takeTicket(memory, slots[1] as number)
    const asyncWait = waiterId(slots[1] as number, 0)
    expect(victimOf(memory, [sync(1), asyncWait])).toBe(asyncWait)
  })

  it('is a first attempt again once the transaction that lost a deadlock ended', () => {
    const { memory, slots, sync } = threads(2)
    takeTicket(memory, slots[0] as number)
    dropTicket(memory, slots[0] as number)
    expect(victimOf(memory, [sync(0), sync(1)])).toBe(sync(1))
  })

  it('a thread slot taken again starts without the ticket of the thread that had it', () => {
    const { memory, slots, sync } = threads(2)
    takeTicket(memory, slots[1] as number)
    memory.detachThread(slots[1] as number)
    expect(memory.attachThread(0)).toBe(slots[1])
    expect(victimOf(memory, [sync(0), sync(1)])).toBe(sync(1))
  })
})
