import { DeadlockError, InvalidArgumentError, describe } from '../errors'

/** A lock timeout, checked: a non-negative finite number of milliseconds. */
export function checkTimeout(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value
  throw expected('timeoutMs', 'a non-negative finite number', value)
}

/** The error for an argument that is not what was expected, saying what came. */
export function expected(what: string, kind: string, value: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`Expected \`${what}\` to be ${kind}, got ${describe(value)}`)
}

/** Why a synchronous call cannot wait for this thread's async holders (they would never be released). */
export function cannotWait(writer: boolean, readers: number, write: boolean): string {
  const state = writer ? 'write-locked by an async holder' : `read-locked by ${readers} async holder(s)`
  return (
    `is ${state} in this thread; a synchronous call cannot wait for it (it would never be released). ` +
    `Run this call inside the holder's callback, or await table.lock.${write ? 'write' : 'read'}(...) instead.`
  )
}

/** Why a synchronous upgrade cannot wait for this thread's other read holders. */
export const CANNOT_UPGRADE =
  'is also read-locked by other holders in this thread; a synchronous call cannot upgrade this read ' +
  'lock to write while they hold it (they would never be released). Await table.lock.write(...) instead.'

/** The error of an async wait that would close a cycle of holders waiting for each other. */
export function deadlocked(table: string): DeadlockError {
  return new DeadlockError(`Deadlock on table \`${table}\`: async holders wait for each other; this one backs off`, { table })
}
