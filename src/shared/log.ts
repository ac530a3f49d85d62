import { InvalidStateError } from '../errors'
import type { SharedMemory } from './memory'

const HEADER = 8
const WRAP = 0xffffffff

function align8(n: number): number {
  return (n + 7) & ~7
}

/** One entry read from the log: its bytes copied out of shared memory. */
export interface LogEntry {
  readonly pos: number
  readonly end: number
  readonly writer: number
  readonly bytes: Uint8Array
}

/**
 * The shared change log: a ring of committed change sets, each `[length u32][writer u32][bytes]`
 * at a monotonically increasing byte position. Only the holder of the append mutex writes;
 * `tail` is published last, so readers never see a half-written entry. Writers advance `head`
 * *before* overwriting, so a reader that finds `head` past what it just copied knows the copy
 * may be torn and that it fell behind.
 */
export class SharedLog {
  readonly #mem: SharedMemory

  constructor(mem: SharedMemory) {
    this.#mem = mem
  }

  /** Largest payload one entry can hold. */
  get maxPayload(): number {
    return (this.#mem.capacity >> 1) - HEADER
  }

  /**
   * Where an entry of `length` bytes appended at `tail` starts and ends (skipping to the ring's
   * start when it would not fit before its end).
   */
  place(tail: number, length: number): { start: number; end: number } {
    if (length > this.maxPayload) {
      throw new InvalidStateError(
        `This commit needs ${length} bytes in the shared log, more than its limit of ${this.maxPayload}; create the database with a larger \`logBytes\``,
      )
    }
    const cap = this.#mem.capacity
    const size = align8(HEADER + length)
    const off = tail % cap
    const start = off + size > cap ? tail + (cap - off) : tail
    return { start, end: start + size }
  }

  /** The first entry boundary at or after `min`, walking from the current head. */
  boundaryAfter(min: number): number {
    let pos = this.#mem.head
    const tail = this.#mem.tail
    while (pos < min && pos < tail) pos = this.#next(pos)
    return pos
  }

  /** Writes an entry placed by {@link place} (append mutex held, head already advanced). */
  write(tail: number, start: number, writer: number, payload: Uint8Array): void {
    const view = this.#mem.logView
    const cap = this.#mem.capacity
    if (start !== tail) view.setUint32(tail % cap, WRAP, true)
    const off = start % cap
    view.setUint32(off, payload.length, true)
    view.setUint32(off + 4, writer, true)
    this.#mem.log.set(payload, off + HEADER)
  }

  /** Reads the entries in [from, to); null if the ring overtook `from` meanwhile. */
  read(from: number, to: number): LogEntry[] | null {
    const out: LogEntry[] = []
    const view = this.#mem.logView
    const cap = this.#mem.capacity
    let pos = from
    while (pos < to) {
      const off = pos % cap
      const length = view.getUint32(off, true)
      if (length === WRAP) {
        pos += cap - off
        continue
      }
      const writer = view.getUint32(off + 4, true)
      const bytes = this.#mem.log.slice(off + HEADER, off + HEADER + Math.min(length, cap - off - HEADER))
      const end = pos + align8(HEADER + length)
      out.push({ pos, end, writer, bytes })
      pos = end
    }
    return this.#mem.head > from ? null : out
  }

  #next(pos: number): number {
    const cap = this.#mem.capacity
    const off = pos % cap
    const length = this.#mem.logView.getUint32(off, true)
    return length === WRAP ? pos + (cap - off) : pos + align8(HEADER + length)
  }
}
