import type { Logger } from '../../database'
import { InvalidArgumentError, describe } from '../../errors'
import type { Format } from '../document'

/** Options of `new BackupManager()`. */
export interface BackupOptions {
  /** Period of the automatic backup once started, in ms (default 300 000); 0 turns it off. */
  intervalMs?: number
  /** `notifyChange()` backs up at most once per this many ms (default 5 000). */
  minIntervalMs?: number
  /** File format of the backups (default `'json'`). */
  format?: Format
  /** Write deltas of the committed changes between full backups (default false: always full). */
  incremental?: boolean
  /** In incremental mode, a full backup after this many deltas (default 10). */
  maxDeltasBeforeFull?: number
  /** How many generations (a full backup and its deltas) to keep (default: all). */
  keep?: number
  /** Called on every failed backup with the error and how many backups failed in a row. */
  onFailure?: (error: Error, consecutiveFailures: number) => void
  /** Where warnings and unhandled failures go (default `console`). */
  logger?: Logger
}

/** A backup file written. */
export interface BackupResult {
  readonly kind: 'full' | 'delta'
  /** Its path: `<dir>/full-<sequence>.json`, `<dir>/delta-<sequence>.bin`… */
  readonly file: string
  readonly sequence: number
  /** Records (full) or ops (delta) it holds. */
  readonly count: number
}

export const OPTIONS = ['intervalMs', 'minIntervalMs', 'format', 'incremental', 'maxDeltasBeforeFull', 'keep', 'onFailure', 'logger'] as const
/** setTimeout fires at once above this. */
export const MAX_TIMER_MS = 2 ** 31 - 1

export function unref<T extends { unref?: () => unknown }>(timer: T): T {
  timer.unref?.()
  return timer
}

export function checkDelay(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (value > MAX_TIMER_MS && value !== Infinity)) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describe(value)}`)
  }
  return value === Infinity ? 0 : value
}

export function checkCount(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`Expected \`${name}\` to be a positive integer, got ${describe(value)}`)
  }
  return value
}
