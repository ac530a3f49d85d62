import { AsyncResource } from 'node:async_hooks'
import { describe, expect, it, vi } from 'vitest'
import { DeadlockError, InvalidArgumentError, LockTimeoutError } from '../../src/errors'
import type { AcquireOptions, LockMode, RWLock } from '../../src/locks/types'

type MakeLock = (options: { name: string; timeoutMs: number }) => RWLock

export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (error: unknown) => void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets pending callbacks run, so that "has not happened" is meaningful. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** A holder that enters, records that it is in, and stays until `release()`. */
export interface Hold {
  state: 'waiting' | 'in' | 'done'
  entered: Promise<void>
  release: () => void
  done: Promise<void>
}

export function hold(lock: RWLock, mode: LockMode, options?: AcquireOptions, log?: string[], label?: string): Hold {
  const entered = deferred()
  const gate = deferred()
  const h: Hold = { state: 'waiting', entered: entered.promise, release: () => gate.resolve(), done: Promise.resolve() }
  h.done = lock[mode](async () => {
    h.state = 'in'
    if (log !== undefined) log.push(label ?? mode)
    entered.resolve()
    await gate.promise
  }, options).then(() => {
    h.state = 'done'
  })
  return h
}

async function releaseAll(...holds: Hold[]): Promise<void> {
  for (const h of holds) h.release()
  await Promise.all(holds.map((h) => h.done))
}

/**
 * The behaviour every {@link RWLock} implementation must have, run against `make`.
 * Interleavings are forced with deferreds; timeouts use short real timeouts.
 */
export function rwlockSuite(name: string, make: MakeLock): void {
  const lockNamed = (timeoutMs = 1000) => make({ name: 'users', timeoutMs })

  // A lock bug shows up as a hang: fail fast, naming the test, instead of waiting for the global timeout.
  describe(name, { timeout: 2000 }, () => {
    describe('sharing and exclusion', () => {
      it('lets many readers hold the lock at once', async () => {
        const lock = lockNamed()
        const r1 = hold(lock, 'read')
        const r2 = hold(lock, 'read')
        await Promise.all([r1.entered, r2.entered])
        expect(lock.locked).toBe(true)
        await releaseAll(r1, r2)
        expect(lock.locked).toBe(false)
      })

      it('makes a writer wait until the readers leave', async () => {
        const lock = lockNamed()
        const r = hold(lock, 'read')
        await r.entered
        const w = hold(lock, 'write')
        await settle()
        expect(w.state).toBe('waiting')
        r.release()
        await w.entered
        await releaseAll(w)
      })

      it('makes readers wait until the writer leaves', async () => {
        const lock = lockNamed()
        const w = hold(lock, 'write')
        await w.entered
        const r = hold(lock, 'read')
        await settle()
        expect(r.state).toBe('waiting')
        w.release()
        await r.entered
        await releaseAll(r)
      })

      it('lets only one writer hold the lock at a time', async () => {
        const lock = lockNamed()
        const w1 = hold(lock, 'write')
        await w1.entered
        const w2 = hold(lock, 'write')
        await settle()
        expect(w2.state).toBe('waiting')
        w1.release()
        await w2.entered
        expect(w1.state).toBe('done')
        await releaseAll(w2)
      })

      it('queues a reader that arrives while a writer waits behind that writer', async () => {
        const lock = lockNamed()
        const log: string[] = []
        const r1 = hold(lock, 'read', undefined, log, 'r1')
        await r1.entered
        const w = hold(lock, 'write', undefined, log, 'w')
        const r2 = hold(lock, 'read', undefined, log, 'r2')
        await settle()
        expect(r2.state).toBe('waiting')
        r1.release()
        await w.entered
        await settle()
        expect(r2.state).toBe('waiting')
        w.release()
        await r2.entered
        await releaseAll(r2)
        expect(log).toEqual(['r1', 'w', 'r2'])
      })

      it('admits together all the readers queued before the next writer', async () => {
        const lock = lockNamed()
        const log: string[] = []
        const w1 = hold(lock, 'write', undefined, log, 'w1')
        await w1.entered
        const r1 = hold(lock, 'read', undefined, log, 'r1')
        const r2 = hold(lock, 'read', undefined, log, 'r2')
        const w2 = hold(lock, 'write', undefined, log, 'w2')
        const r3 = hold(lock, 'read', undefined, log, 'r3')
        w1.release()
        await Promise.all([r1.entered, r2.entered])
        await settle()
        expect([w2.state, r3.state]).toEqual(['waiting', 'waiting'])
        await releaseAll(r1, r2)
        await w2.entered
        await settle()
        expect(r3.state).toBe('waiting')
        await releaseAll(w2, r3)
        expect(log).toEqual(['w1', 'r1', 'r2', 'w2', 'r3'])
      })

      it('serves waiters in arrival order', async () => {
        const lock = lockNamed()
        const log: string[] = []
        const first = hold(lock, 'write')
        await first.entered
        const modes: LockMode[] = ['write', 'read', 'write', 'write', 'read', 'write']
        const done = modes.map((mode, i) => lock[mode](() => void log.push(`${mode}${i}`)))
        first.release()
        await Promise.all([first.done, ...done])
        expect(log).toEqual(modes.map((mode, i) => `${mode}${i}`))
      })
    })

    describe('results and errors', () => {
      it('returns the result of fn, awaited', async () => {
        const lock = lockNamed()
        await expect(lock.read(() => 1)).resolves.toBe(1)
        await expect(lock.write(async () => 2)).resolves.toBe(2)
        expect(lock.readSync(() => 3)).toBe(3)
        expect(lock.writeSync(() => 4)).toBe(4)
      })

      it('rethrows an error of fn and releases the lock', async () => {
        const lock = lockNamed()
        const boom = new Error('boom')
        await expect(lock.write(() => { throw boom })).rejects.toBe(boom)
        await expect(lock.read(async () => { throw boom })).rejects.toBe(boom)
        expect(() => lock.writeSync(() => { throw boom })).toThrow(boom)
        expect(() => lock.readSync(() => { throw boom })).toThrow(boom)
        expect(lock.locked).toBe(false)
        await expect(lock.write(() => 'free again', { timeoutMs: 50 })).resolves.toBe('free again')
      })
    })

    describe('timeouts', () => {
      it('gives up waiting with LockTimeoutError naming the lock, the mode and the timeout, and never runs fn', async () => {
        const lock = lockNamed()
        const w = hold(lock, 'write')
        await w.entered
        const fn = vi.fn()
        const error = await lock.read(fn, { timeoutMs: 20 }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(LockTimeoutError)
        expect((error as Error).message).toMatch(/users/)
        expect((error as Error).message).toMatch(/read/)
        expect((error as Error).message).toMatch(/20 ms/)
        await releaseAll(w)
        await settle()
        expect(fn).not.toHaveBeenCalled()
        expect(lock.locked).toBe(false)
      })

      it("uses the lock's own timeout when the call gives none", async () => {
        const lock = lockNamed(20)
        const r = hold(lock, 'read')
        await r.entered
        await expect(lock.write(() => 'never')).rejects.toBeInstanceOf(LockTimeoutError)
        await releaseAll(r)
      })

      it('lets the readers queued behind a writer in when that writer times out', async () => {
        const lock = lockNamed()
        const r1 = hold(lock, 'read')
        await r1.entered
        const w = lock.write(() => 'never', { timeoutMs: 20 })
        const r2 = hold(lock, 'read')
        await expect(w).rejects.toBeInstanceOf(LockTimeoutError)
        await r2.entered
        expect(r1.state).toBe('in')
        await releaseAll(r1, r2)
      })
    })

    describe('re-entrancy in async holders', () => {
      it('grants read inside write to the same async context', async () => {
        const lock = lockNamed(50)
        await expect(lock.write(() => lock.read(() => 'nested'))).resolves.toBe('nested')
      })

      it('grants write inside write to the same async context', async () => {
        const lock = lockNamed(50)
        await expect(lock.write(async () => { await settle(1); return lock.write(() => 'nested') })).resolves.toBe('nested')
      })

      it('grants read inside read even while a writer waits', async () => {
        const lock = lockNamed(50)
        const writerQueued = deferred()
        const outer = lock.read(async () => {
          await writerQueued.promise
          return lock.read(() => 'nested')
        })
        const w = lock.write(() => 'w', { timeoutMs: 1000 })
        await settle()
        writerQueued.resolve()
        await expect(outer).resolves.toBe('nested')
        await expect(w).resolves.toBe('w')
      })

      it("grants readSync and writeSync inside the holder's callback, before and after an await", async () => {
        const lock = lockNamed()
        const result = await lock.write(async () => {
          const a = lock.readSync(() => 'a')
          await settle(1)
          const b = lock.writeSync(() => 'b')
          const release = lock.acquireSync('write')
          release()
          return a + b
        })
        expect(result).toBe('ab')
        expect(lock.locked).toBe(false)
      })

      it('upgrades a sole reader to write for the duration of the nested call', async () => {
        const lock = lockNamed()
        const holdOutside = AsyncResource.bind(() => hold(lock, 'read'))
        let other: Hold | undefined
        await lock.read(async () => {
          await lock.write(async () => {
            other = holdOutside()
            await settle()
            expect(other.state).toBe('waiting')
          })
          await other?.entered
        })
        await releaseAll(other as Hold)
        expect(lock.locked).toBe(false)
      })

      it('makes an upgrading reader wait until the other readers leave', async () => {
        const lock = lockNamed()
        const other = hold(lock, 'read')
        await other.entered
        await lock.read(async () => {
          const w = lock.write(() => 'upgraded')
          await settle()
          expect(other.state).toBe('in')
          other.release()
          await expect(w).resolves.toBe('upgraded')
        })
        await other.done
      })

      it('upgrades a sole reader ahead of a writer already waiting', async () => {
        const lock = lockNamed()
        const log: string[] = []
        const writeOutside = AsyncResource.bind(() => lock.write(() => void log.push('writer')))
        let w: Promise<void> = Promise.resolve()
        await lock.read(async () => {
          w = writeOutside()
          await settle()
          await lock.write(() => void log.push('upgrade'))
        })
        await w
        expect(log).toEqual(['upgrade', 'writer'])
      })

      it('lets the first of two upgrading readers through: the second to ask closes a cycle and backs off with DeadlockError', async () => {
        const lock = lockNamed(10_000)
        const bothIn = deferred()
        let inside = 0
        const upgrade = () =>
          lock.read(async () => {
            if (++inside === 2) bothIn.resolve()
            await bothIn.promise
            return lock.write(() => 'upgraded')
          })
        const [winner, loser] = await Promise.allSettled([upgrade(), upgrade()])
        expect(winner).toEqual({ status: 'fulfilled', value: 'upgraded' })
        expect(loser.status === 'rejected' && loser.reason).toBeInstanceOf(DeadlockError)
        expect(lock.locked).toBe(false)
      })

      it('refuses a synchronous upgrade at once while other readers hold the lock', async () => {
        const lock = lockNamed(10_000)
        const other = hold(lock, 'read')
        await other.entered
        await lock.read(() => {
          expect(() => lock.writeSync(() => 'never')).toThrow(LockTimeoutError)
          expect(lock.writeSync.bind(lock, () => 'x')).toThrow(/users/)
        })
        await releaseAll(other)
      })

      it('upgrades a sole reader synchronously', async () => {
        const lock = lockNamed()
        await expect(lock.read(() => lock.writeSync(() => 'upgraded'))).resolves.toBe('upgraded')
        expect(lock.locked).toBe(false)
      })

      it('composes the holds of different locks in one async context', async () => {
        const a = lockNamed(50)
        const b = make({ name: 'orders', timeoutMs: 50 })
        const result = await a.write(() =>
          b.write(async () => {
            await settle(1)
            return a.writeSync(() => 'a') + b.writeSync(() => 'b') + (await a.read(() => 'c'))
          }),
        )
        expect(result).toBe('abc')
        expect([a.locked, b.locked]).toEqual([false, false])
      })

      it("stops being re-entrant once the holder's callback has finished", async () => {
        const lock = lockNamed(10_000)
        let escaped: () => string = () => ''
        await lock.write(() => {
          escaped = AsyncResource.bind(() => lock.readSync(() => 'late'))
        })
        const other = hold(lock, 'write')
        await other.entered
        expect(escaped).toThrow(LockTimeoutError)
        await releaseAll(other)
        expect(escaped()).toBe('late')
      })
    })

    describe('synchronous calls', () => {
      it('throws LockTimeoutError at once when a synchronous call meets an async holder', async () => {
        // A lock timeout longer than the test's: a call that waited would fail the test.
        const lock = lockNamed(10 * 60_000)
        const fn = vi.fn()
        const w = hold(lock, 'write')
        await w.entered
        expect(() => lock.readSync(fn)).toThrow(LockTimeoutError)
        expect(() => lock.writeSync(fn)).toThrow(LockTimeoutError)
        expect(() => lock.acquireSync('read')).toThrow(LockTimeoutError)
        expect(() => lock.readSync(fn)).toThrow(/users/)
        expect(fn).not.toHaveBeenCalled()
        await releaseAll(w)
      })

      it('throws LockTimeoutError at once when a synchronous writer meets async readers', async () => {
        const lock = lockNamed(10 * 60_000)
        const r = hold(lock, 'read')
        await r.entered
        expect(() => lock.writeSync(() => 'never')).toThrow(LockTimeoutError)
        expect(() => lock.acquireSync('write')).toThrow(/users/)
        await releaseAll(r)
      })

      it('lets a synchronous reader share with async readers', async () => {
        const lock = lockNamed()
        const r = hold(lock, 'read')
        await r.entered
        expect(lock.readSync(() => 'shared')).toBe('shared')
        await releaseAll(r)
      })

      it('nests synchronous grants, releasing only at the outermost', () => {
        const lock = lockNamed()
        const result = lock.writeSync(() => lock.readSync(() => lock.writeSync(() => 'deep')))
        expect(result).toBe('deep')
        expect(lock.readSync(() => lock.writeSync(() => 'upgraded'))).toBe('upgraded')
        const outer = lock.acquireSync('read')
        const inner = lock.acquireSync('write')
        inner()
        expect(lock.locked).toBe(true)
        outer()
        expect(lock.locked).toBe(false)
      })

      it('makes async acquisitions wait while an acquireSync holder holds, and admits them on release', async () => {
        const lock = lockNamed()
        const release = lock.acquireSync('write')
        const r = hold(lock, 'read')
        const w = hold(lock, 'write')
        await settle()
        expect([r.state, w.state]).toEqual(['waiting', 'waiting'])
        release()
        await r.entered
        r.release()
        await w.entered
        await releaseAll(r, w)
        expect(lock.locked).toBe(false)
      })

      it('makes an async writer wait while a synchronous reader holds', async () => {
        const lock = lockNamed()
        const release = lock.acquireSync('read')
        const w = hold(lock, 'write')
        await settle()
        expect(w.state).toBe('waiting')
        release()
        await w.entered
        await releaseAll(w)
      })

      it('makes release idempotent', () => {
        const lock = lockNamed()
        const first = lock.acquireSync('read')
        const second = lock.acquireSync('read')
        first()
        first()
        expect(lock.locked).toBe(true)
        second()
        expect(lock.locked).toBe(false)
        second()
        expect(lock.locked).toBe(false)
        expect(lock.writeSync(() => 'free')).toBe('free')
      })
    })

    describe('arguments', () => {
      it('rejects a callback that is not a function with InvalidArgumentError', async () => {
        const lock = lockNamed()
        const bad = 42 as unknown as () => void
        await expect(lock.read(bad)).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(lock.write(bad)).rejects.toBeInstanceOf(InvalidArgumentError)
        expect(() => lock.readSync(bad)).toThrow(InvalidArgumentError)
        expect(() => lock.writeSync(bad)).toThrow(/Expected `fn` to be a function, got `42` \(number\)/)
      })

      it('rejects a timeout that is not a non-negative finite number with InvalidArgumentError', async () => {
        const lock = lockNamed()
        const message = 'Expected `timeoutMs` to be a non-negative finite number, got `-1` (number)'
        await expect(lock.read(() => 1, { timeoutMs: -1 })).rejects.toThrow(message)
        for (const timeoutMs of [Number.NaN, Number.POSITIVE_INFINITY, '5', null]) {
          const options = { timeoutMs } as unknown as AcquireOptions
          await expect(lock.write(() => 1, options)).rejects.toBeInstanceOf(InvalidArgumentError)
          expect(() => lock.readSync(() => 1, options)).toThrow(InvalidArgumentError)
          expect(() => lock.acquireSync('write', options)).toThrow(InvalidArgumentError)
        }
        expect(() => make({ name: 'users', timeoutMs: -1 })).toThrow(message)
        expect(lock.locked).toBe(false)
      })

      it('rejects an unknown option or lock mode with InvalidArgumentError', async () => {
        const lock = lockNamed()
        const misspelt = { timeout: 5 } as unknown as AcquireOptions
        await expect(lock.read(() => 1, misspelt)).rejects.toThrow(/timeout/)
        expect(() => lock.writeSync(() => 1, misspelt)).toThrow(InvalidArgumentError)
        expect(() => lock.acquireSync('exclusive' as LockMode)).toThrow(InvalidArgumentError)
        expect(lock.locked).toBe(false)
      })
    })
  })
}
