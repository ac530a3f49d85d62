import { AsyncLocalStorage } from 'node:async_hooks'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LocalRWLock } from '../../src/locks/local-lock'
import { deferred, hold, rwlockSuite, settle } from './rwlock-suite'

rwlockSuite('LocalRWLock', (options) => new LocalRWLock(options))

describe('LocalRWLock in one thread', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('lets a synchronous reader in while async readers hold and a writer waits', async () => {
    const lock = new LocalRWLock({ name: 'users', timeoutMs: 1000 })
    const r = hold(lock, 'read')
    await r.entered
    const w = hold(lock, 'write')
    await settle()
    expect(lock.readSync(() => w.state)).toBe('waiting')
    r.release()
    await w.entered
    w.release()
    await Promise.all([r.done, w.done])
  })

  it('does not look up the async context when the lock is free', () => {
    const getStore = vi.spyOn(AsyncLocalStorage.prototype, 'getStore')
    const lock = new LocalRWLock({ name: 'users', timeoutMs: 1000 })
    lock.writeSync(() => lock.readSync(() => 1))
    lock.acquireSync('read')()
    expect(getStore).not.toHaveBeenCalled()
  })

  it('waits with a timer that keeps the process alive and is cleared on acquire', async () => {
    const setTimer = vi.spyOn(globalThis, 'setTimeout')
    const clearTimer = vi.spyOn(globalThis, 'clearTimeout')
    const lock = new LocalRWLock({ name: 'users', timeoutMs: 1000 })
    const w = hold(lock, 'write')
    await w.entered
    const r = hold(lock, 'read')
    const timer = setTimer.mock.results.at(-1)?.value as NodeJS.Timeout
    expect(timer.hasRef()).toBe(true)
    w.release()
    await r.entered
    expect(clearTimer).toHaveBeenCalledWith(timer)
    r.release()
    await Promise.all([w.done, r.done])
  })

  it('keeps the lock for a re-entrant call that outlives its holder callback', async () => {
    const lock = new LocalRWLock({ name: 'users', timeoutMs: 1000 })
    const gate = deferred()
    let detached: Promise<void> = Promise.resolve()
    await lock.write(() => {
      detached = lock.read(() => gate.promise)
    })
    expect(lock.locked).toBe(true)
    const w = hold(lock, 'write')
    await settle()
    expect(w.state).toBe('waiting')
    gate.resolve()
    await detached
    await w.entered
    w.release()
    await w.done
  })

  it('serves a long queue in arrival order', async () => {
    const lock = new LocalRWLock({ name: 'users', timeoutMs: 5000 })
    const first = hold(lock, 'write')
    await first.entered
    const log: number[] = []
    const done = Array.from({ length: 3000 }, (_, i) => lock[i % 3 === 0 ? 'read' : 'write'](() => void log.push(i)))
    first.release()
    await Promise.all([first.done, ...done])
    expect(log).toEqual(Array.from({ length: 3000 }, (_, i) => i))
  })
})
