// One snapshot per move of the ring's head, whatever the number of writers (session 20): a writer
// whose append found the head already moved by another (which reclaimed, and is encoding the
// snapshot that move calls for) took one of its own too. With two workers writing, every ring
// pass was snapshotted twice at once (a full encode of the state each: ~3,400 page faults for a
// fresh worker's first, in both threads in the same 100 ms window of bench/workers.mjs).
import { describe, expect, it, vi } from 'vitest'
import { increment } from '../../src'
import { SnapshotWriter } from '../../src/shared/snapshot'
import { twoReplicas } from './two-replicas'

const rows = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, score: 0 }))

describe('snapshots of a shared log with two writers', () => {
  it('are written once per move of the ring head: a writer that finds the head moved by another leaves the snapshot to it', () => {
    // A 1 MiB ring: a reclaim frees 32 KiB, so the other writer's next entry (4 KiB of room in
    // place) moves the head no further; the first reclaim is at the first wrap.
    const { t, o } = twoReplicas(rows, { logBytes: 1 << 20 })
    const write = SnapshotWriter.prototype.write
    let writes = 0
    vi.spyOn(SnapshotWriter.prototype, 'write').mockImplementation(function (this: SnapshotWriter, ...args: Parameters<SnapshotWriter['write']>) {
      writes++
      // The other writer appends while this one encodes (another thread would, meanwhile).
      if (writes === 1) o.update({ score: increment(1) }, { id: 2 })
      return write.apply(this, args)
    })
    // Up to one ring pass (~48 bytes an update), the other replica kept caught up.
    for (let i = 0; i < 40_000 && writes === 0; i++) {
      t.update({ score: increment(1) }, { id: 1 })
      if (i % 64 === 0) o.get(1)
    }
    expect(writes).toBe(1)
    expect(o.get(2)).toEqual({ id: 2, score: 1 })
    expect(t.get(2)).toEqual({ id: 2, score: 1 })
  })

  it('are encoded by one writer at a time: a writer whose append moved the head while another encodes leaves the snapshot to it', () => {
    // A 64 KiB ring: a reclaim frees only 2 KiB, so the other writer's next entry (4 KiB of room
    // in place, at the ring's start) moves the head again, and calls for a snapshot of its own.
    const { t, o } = twoReplicas(rows, { logBytes: 1 << 16 })
    const write = SnapshotWriter.prototype.write
    let writes = 0
    let encodes = 0
    vi.spyOn(SnapshotWriter.prototype, 'write').mockImplementation(function (this: SnapshotWriter, ...args: Parameters<SnapshotWriter['write']>) {
      writes++
      const [source, ...rest] = args
      const counted = {
        rawState(...a: Parameters<typeof source.rawState>) {
          encodes++
          // The other writer appends while this one encodes (another thread would, meanwhile).
          if (encodes === 1) o.update({ score: increment(1) }, { id: 2 })
          return source.rawState(...a)
        },
      }
      return write.call(this, counted, ...rest)
    })
    for (let i = 0; i < 4_000 && writes === 0; i++) {
      t.update({ score: increment(1) }, { id: 1 })
      if (i % 64 === 0) o.get(1)
    }
    expect(writes).toBe(2)
    expect(encodes).toBe(1)
    expect(o.get(2)).toEqual({ id: 2, score: 1 })
    // Both replicas hold both writers' commits.
    expect(t.get(2)).toEqual({ id: 2, score: 1 })
  })
})
